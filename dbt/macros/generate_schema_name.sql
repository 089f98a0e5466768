{#
  Models land in exactly the schema their folder names (STG_STOCKS, INT_STOCKS, MARTS_STOCKS),
  not in "<target schema>_<custom schema>" as dbt does by default: the schema names are part of
  the contract that Grafana, the report and users query.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim | upper }}
    {%- endif -%}
{%- endmacro %}
