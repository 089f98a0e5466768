{#
  ALL adaptations to the local fakesnow warehouse live in this file; real Snowflake never takes these paths.

  fakesnow is the Snowflake wire protocol over DuckDB. Two differences matter to dbt:

  1. Temporary tables. DuckDB keeps them in its own `temp` catalog, so the fully qualified name
     `DB.SCHEMA.MODEL__dbt_tmp` that dbt-snowflake builds for an incremental run's temp table does
     not resolve. `snowflake__make_temp_relation` below drops database and schema from the temp
     relation when the target is fakesnow (account `fakesnow`); on Snowflake it is dbt's default.
  2. MERGE. Incremental models use `incremental_strategy = incremental_strategy()`, which is
     'delete+insert' on both targets: it is a supported, exact strategy on Snowflake and the one that
     fakesnow runs. One strategy everywhere keeps the SQL that is tested the SQL that ships.

  3. Schema-change checks. dbt compares the columns of that temp table with the target; fakesnow cannot
     describe a temp table, so `on_schema_change()` is 'fail' on Snowflake (a changed model must be
     full-refreshed deliberately) and 'ignore' on fakesnow (every local run can be a full refresh).

  4. Comments. `comment on ... is $$...$$` and column comments do not parse on fakesnow, so
     dbt_project.yml enables persist_docs only when the account is not `fakesnow` (the one setting
     outside this file: dbt_project.yml cannot call macros). Snowflake gets table and column comments.

  5. Describing temp tables. `describe table` finds nothing for a DuckDB temp table, which dbt's unit
     tests (and schema-change checks) rely on; `snowflake__get_columns_in_relation` reads such a
     relation's columns from a zero-row query's result description instead, on fakesnow only.

  `is_fakesnow()` is the single switch: the `local` profile sets account `fakesnow`.
#}

{% macro is_fakesnow() -%}
    {{ return(target is defined and target.account | lower == 'fakesnow') }}
{%- endmacro %}

{% macro incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{% macro on_schema_change() -%}
    {{ return('ignore' if is_fakesnow() else 'fail') }}
{%- endmacro %}

{% macro snowflake__make_temp_relation(base_relation, suffix='__dbt_tmp') %}
    {%- set temp_relation = default__make_temp_relation(base_relation, suffix) -%}
    {%- if is_fakesnow() -%}
        {%- set temp_relation = temp_relation.incorporate(path={"database": none, "schema": none}) -%}
    {%- endif -%}
    {{ return(temp_relation) }}
{% endmacro %}

{#- dbt-snowflake's get_columns_in_relation; on fakesnow a temp relation (no database) is described
    from a zero-row select instead of `describe table`. -#}
{% macro snowflake__get_columns_in_relation(relation) -%}
    {%- if is_fakesnow() and relation.database is none -%}
        {{ return(get_column_schema_from_query('select * from ' ~ relation.render())) }}
    {%- endif -%}
    {%- set result = run_query('describe table ' ~ relation.render()) -%}
    {%- set maximum = 10000 -%}
    {%- if (result | length) >= maximum -%}
        {%- do exceptions.raise_compiler_error(
            'Too many columns in relation ' ~ relation.render() ~ ': dbt reads at most ' ~ maximum
        ) -%}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for row in result -%}
        {%- do columns.append(api.Column.from_description(row['name'], row['type'])) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}
