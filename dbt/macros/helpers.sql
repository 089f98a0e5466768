{#- The first date an incremental run recomputes, as a date literal: `lookback_days` before the newest
    `date_column` already in the model. Rows from that date on are deleted and rebuilt (delete+insert), so
    late events for the last days land and an incremental run gives the same rows as a full refresh.
    A literal (not a subquery) lets the warehouse prune RAW before the staging windows run. -#}
{% macro recompute_from(date_column) -%}
    {%- if execute -%}
        {%- set query -%}
            select to_varchar(dateadd('day', -{{ var('lookback_days') }}, max({{ date_column }})), 'YYYY-MM-DD')
            from {{ this }}
        {%- endset -%}
        {%- set newest = run_query(query).columns[0].values()[0] -%}
        {{ return("'" ~ (newest or '1900-01-01') ~ "'::date") }}
    {%- else -%}
        {{ return("'1900-01-01'::date") }}
    {%- endif -%}
{%- endmacro %}

{#- An indicator value as stored: rounded to 8 decimal places, far below any price tick, so the last
    bits of floating-point noise (which differ between engines and evaluation orders) never reach the
    marts, and incremental and full-refresh runs store identical values. -#}
{% macro indicator(expression) -%}
    round({{ expression }}, 8)
{%- endmacro %}
