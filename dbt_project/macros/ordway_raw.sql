{#- Helpers for staging models reading dlt's raw tables.

    A raw table may be missing entirely (a collection that is excluded from extraction, an
    endpoint the plan does not include, a brand-new account: dlt creates a table only once a
    resource yields a record), exist with zero rows, or lack columns (dlt creates a column only
    once it has seen a non-null value). Staging reads the raw relation and its columns at run
    time: a missing table reads as an empty relation with dlt's system columns, a missing column
    as a typed null, so every model builds on an empty or partly empty tenant. -#}

{#- dlt's system columns (and `id`) of an empty stand-in, per raw table; collections and their
    child tables share the default. -#}
{% macro ordway_empty_columns(table_name) -%}
    {%- if table_name == '_dlt_loads' -%}
        {{ return({
            'load_id': 'varchar', 'schema_name': 'varchar', 'status': 'bigint',
            'inserted_at': dbt.type_timestamp(), 'schema_version_hash': 'varchar'
        }) }}
    {%- elif table_name == '_ordway_deletions' -%}
        {{ return({'collection': 'varchar', 'id': 'varchar', 'deleted_at': dbt.type_timestamp()}) }}
    {%- else -%}
        {{ return({
            'id': 'varchar', '_dlt_id': 'varchar', '_dlt_load_id': 'varchar',
            '_dlt_parent_id': 'varchar', '_dlt_list_idx': 'bigint'
        }) }}
    {%- endif -%}
{%- endmacro %}

{#- The raw table `table_name` of source `ordway` for a FROM clause: the relation when it exists,
    else an empty, typed stand-in `(select ... where 1 = 0)`. At parse time (execute false) the
    source is registered as a dependency either way. -#}
{% macro ordway_from(table_name) -%}
    {%- set relation = source('ordway', table_name) -%}
    {%- if execute and load_relation(relation) is none -%}
        (
            select
            {%- for name, type in ordway_empty_columns(table_name).items() %}
                cast(null as {{ type }}) as {{ name }}{{ "," if not loop.last }}
            {%- endfor %}
            where 1 = 0
        )
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- Lowercased column name -> lowercased data type of a raw table; empty at parse time or when
    the table does not exist. -#}
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

{#- A raw field cast to `type` (none = as loaded: the audit timestamps); text that is not a
    valid value becomes null (dlt may load a date or number as text); a column missing from the
    raw table becomes a typed null (for none: a timestamp with time zone, the type dlt loads the
    audit timestamps as, so a view over a missing table has no untyped column). -#}
{% macro ordway_field(columns, name, type, alias='raw') -%}
    {%- if type is none -%}
        {%- if name | lower in columns -%}
            {{ alias }}.{{ name }}
        {%- else -%}
            cast(null as {{ timestamp_tz_type() }})
        {%- endif -%}
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

{#- Rows of complete loads only (dlt marks a load complete with status 0 in _dlt_loads; without
    that table no load has completed). -#}
{% macro ordway_complete_load(alias='raw') -%}
    {{ alias }}._dlt_load_id in (
        select loads.load_id from {{ ordway_from('_dlt_loads') }} as loads where loads.status = 0
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
