{#- Why a RAW event is kept out of the staging models; null when it is valid. One place, used by the
    staging and the quarantine models so the two always partition RAW exactly. -#}
{% macro reject_reason() -%}
    case
        when price is null or price <= 0 then 'non_positive_price'
        when volume < 0 then 'negative_volume'
        {#- Ahead of its own arrival in the warehouse, not of "now": a row's verdict never changes
            with the time a model runs, so incremental runs and full refreshes always agree. #}
        when event_time > dateadd('minute', {{ var('future_tolerance_minutes') }}, loaded_at)
            then 'future_event_time'
        when event_type not in ('quote', 'trade') then 'unknown_event_type'
    end
{%- endmacro %}
