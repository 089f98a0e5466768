{#- What an incremental run rebuilds: the distinct values of `expression` (a date or an hour of event time)
    over the rows of `upstream` loaded since this model's watermark (the newest `last_loaded_at` it holds),
    less `late_arrival_minutes` for loads that commit out of order. A late event for any period
    (yesterday or last year) rebuilds that whole period, so an incremental run gives the same rows as a
    full refresh, and reads only what changed. Returns the values as strings in `format` (sorted);
    render them with `sql_literals`. Literals rather than a subquery let the warehouse prune RAW before
    the staging windows run.

    upstream: the relation whose arrivals count; expression: the period of one of its rows; loaded_at:
    its arrival time column. Call once per model (`set`): each call runs two small queries. -#}
{% macro changed_since_watermark(upstream, expression, loaded_at='loaded_at', format='YYYY-MM-DD') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set watermark_query -%}
        select to_varchar(
            dateadd('minute', -{{ var('late_arrival_minutes') }}, max(last_loaded_at)), 'YYYY-MM-DD HH24:MI:SS.FF6'
        )
        from {{ this }}
    {%- endset -%}
    {%- set watermark = run_query(watermark_query).columns[0].values()[0] or '1900-01-01 00:00:00' -%}
    {%- set changed_query -%}
        select distinct to_varchar({{ expression }}, '{{ format }}') as changed
        from {{ upstream }}
        where {{ loaded_at }} > '{{ watermark }}'::timestamp_ntz
        order by changed
    {%- endset -%}
    {{ return(run_query(changed_query).columns[0].values() | list) }}
{%- endmacro %}

{#- The days with arrivals since the watermark (`changed_since_watermark`), as a SQL list of date literals. -#}
{% macro changed_dates(upstream, date_expression, loaded_at='loaded_at') -%}
    {{ return(sql_literals(changed_since_watermark(upstream, date_expression, loaded_at), 'date')) }}
{%- endmacro %}

{#- `values` as a parenthesised SQL list of `type` literals, `(null)` when empty (matches nothing). -#}
{% macro sql_literals(values, type) -%}
    {%- if values | length == 0 -%}
        {{ return("(null)") }}
    {%- endif -%}
    {%- set literals = [] -%}
    {%- for v in values -%}
        {%- do literals.append("'" ~ v ~ "'::" ~ type) -%}
    {%- endfor -%}
    {{ return("(" ~ literals | join(", ") ~ ")") }}
{%- endmacro %}

{#- An indicator value as stored: rounded to 8 decimal places, far below any price tick, so the last
    bits of floating-point noise (which differ between engines and evaluation orders) never reach the
    marts, and incremental and full-refresh runs store identical values. -#}
{% macro indicator(expression) -%}
    round({{ expression }}, 8)
{%- endmacro %}
