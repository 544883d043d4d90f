{#- Helpers for staging models reading dlt's raw tables.

    dlt creates a column only once it has seen a non-null value, so a field that is empty in
    every record so far (reversed_on, cancellation_date, ...) may be missing from the raw table.
    Staging reads the raw columns at run time and selects a typed null for a missing one. -#}

{#- Lowercased column name -> lowercased data type of a relation; empty at parse time or when
    the relation does not exist. -#}
{% macro ordway_columns(relation) -%}
    {%- set result = {} -%}
    {%- if execute -%}
        {%- set existing = load_relation(relation) -%}
        {%- if existing is not none -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do result.update({column.name | lower: column.data_type | lower}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(result) }}
{%- endmacro %}

{#- A raw field cast to `type` (none = as loaded, e.g. timestamps); text that is not a valid value becomes null (dlt may load a
    date or number as text); a column missing from the raw table becomes a typed null. -#}
{% macro ordway_field(columns, name, type, alias='raw') -%}
    {%- if type is none -%}
        {%- if name | lower in columns -%}{{ alias }}.{{ name }}{%- else -%}null{%- endif -%}
    {%- elif name | lower in columns -%}
        {%- set raw_type = columns[name | lower] -%}
        {%- set is_text = raw_type.startswith('varchar') or raw_type.startswith('text')
            or raw_type.startswith('string') or raw_type.startswith('character') -%}
        {%- set wants_text = type | lower in ['varchar', 'text', 'string'] or (type | lower).startswith('varchar') -%}
        {%- if is_text and not wants_text -%}
            {{ dbt.safe_cast("nullif(nullif(trim(" ~ alias ~ "." ~ name ~ "), ''), '-')", type) }}
        {%- else -%}
            cast({{ alias }}.{{ name }} as {{ type }})
        {%- endif -%}
    {%- else -%}
        cast(null as {{ type }})
    {%- endif -%}
{%- endmacro %}

{#- Rows of complete loads only (dlt marks a load complete with status 0 in _dlt_loads). -#}
{% macro ordway_complete_load(alias='raw') -%}
    {{ alias }}._dlt_load_id in (
        select loads.load_id from {{ source('ordway', '_dlt_loads') }} as loads where loads.status = 0
    )
{%- endmacro %}

{#- Records not marked deleted upstream in _ordway_deletions (deleted_at null = reappeared).
    The deletions table is written by the source; before it exists nothing is filtered. -#}
{% macro ordway_not_deleted(collection, id_expression='raw.id') -%}
    {%- set deletions = source('ordway', '_ordway_deletions') -%}
    {%- set existing = load_relation(deletions) if execute else none -%}
    {%- if existing is none -%}
        1 = 1
    {%- else -%}
        not exists (
            select 1
            from {{ existing }} as deletions
            where
                deletions.collection = '{{ collection }}'
                and deletions.id = {{ id_expression }}
                and deletions.deleted_at is not null
        )
    {%- endif -%}
{%- endmacro %}

{#- The filter every root staging model applies. -#}
{% macro ordway_live_rows(collection, alias='raw') -%}
    {{ ordway_complete_load(alias) }}
    and {{ ordway_not_deleted(collection, alias ~ '.id') }}
{%- endmacro %}
