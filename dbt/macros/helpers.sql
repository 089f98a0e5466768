{#- The dates an incremental run rebuilds, as a SQL list of date literals: every date of `upstream` with a
    row loaded since this model's watermark (the newest `last_loaded_at` it holds), less
    `late_arrival_minutes` for loads that commit out of order. A late event for any date (yesterday or
    last year) rebuilds that whole day (delete+insert on symbol + day), so an incremental run gives the
    same rows as a full refresh, and reads only the days that changed. Literals rather than a subquery
    let the warehouse prune RAW before the staging windows run.

    upstream: the relation whose arrivals count; date_expression: its date (event date, bar date);
    loaded_at: its arrival time column. Call once per model (`set`): each call runs two small queries. -#}
{% macro changed_dates(upstream, date_expression, loaded_at='loaded_at') -%}
    {%- if not execute -%}
        {{ return("('1900-01-01'::date)") }}
    {%- endif -%}
    {%- set watermark_query -%}
        select to_varchar(
            dateadd('minute', -{{ var('late_arrival_minutes') }}, max(last_loaded_at)), 'YYYY-MM-DD HH24:MI:SS.FF6'
        )
        from {{ this }}
    {%- endset -%}
    {%- set watermark = run_query(watermark_query).columns[0].values()[0] or '1900-01-01 00:00:00' -%}
    {%- set dates_query -%}
        select distinct to_varchar({{ date_expression }}, 'YYYY-MM-DD') as changed_date
        from {{ upstream }}
        where {{ loaded_at }} > '{{ watermark }}'::timestamp_ntz
        order by changed_date
    {%- endset -%}
    {%- set dates = run_query(dates_query).columns[0].values() -%}
    {%- if dates | length == 0 -%}
        {{ return("(null)") }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for d in dates -%}
        {%- do literals.append("'" ~ d ~ "'::date") -%}
    {%- endfor -%}
    {{ return("(" ~ literals | join(", ") ~ ")") }}
{%- endmacro %}

{#- An indicator value as stored: rounded to 8 decimal places, far below any price tick, so the last
    bits of floating-point noise (which differ between engines and evaluation orders) never reach the
    marts, and incremental and full-refresh runs store identical values. -#}
{% macro indicator(expression) -%}
    round({{ expression }}, 8)
{%- endmacro %}
