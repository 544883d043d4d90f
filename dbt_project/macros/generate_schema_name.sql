{#- Custom schema names are used as is (staging, intermediate, marts), with no target prefix.

    On Snowflake the marts are built and tested in a schema BI does not read: var
    `marts_build_schema` (default `marts_build`, i.e. MARTS_BUILD; pipelines/warehouse.py
    MARTS_BUILD_SCHEMA must name the same schema). Publishing swaps it with MARTS once every
    test and blocking check passed (pipelines/publish.py). On DuckDB the marts are built in the
    working file (DUCKDB_PATH) and published by copying them into DUCKDB_PUBLISHED_PATH. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' and target.type == 'snowflake' -%}
        {{ var('marts_build_schema', 'marts_build') | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
