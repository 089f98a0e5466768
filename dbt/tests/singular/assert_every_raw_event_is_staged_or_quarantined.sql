-- Asserts that no RAW event is silently lost: every distinct EVENT_ID is exactly one of a staged quote,
-- a staged trade or a quarantined event. Returns a row (fails) when the counts differ.
with raw_events as (
    select count(distinct event_id) as n from {{ source('raw', 'stock_prices') }}
),

accounted as (
    select
        (select count(*) from {{ ref('stg_finnhub__quotes') }})
        + (select count(*) from {{ ref('stg_finnhub__trades') }})
        + (select count(*) from {{ ref('stg_finnhub__quarantine') }}) as n
)

select
    raw_events.n as raw_events,
    accounted.n as accounted_events
from raw_events
cross join accounted
where raw_events.n != accounted.n
