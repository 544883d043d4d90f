{#- The as-of date as a SQL date literal: var `as_of_date` (YYYY-MM-DD), default today (UTC). -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' -%}
        {%- set value = run_started_at.strftime('%Y-%m-%d') -%}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}

{#- First day of the as-of month. -#}
{% macro as_of_month() -%}
    cast({{ dbt.date_trunc('month', as_of_date()) }} as date)
{%- endmacro %}

{#- A list var rendered as a SQL list of string literals: ('a', 'b'). -#}
{% macro sql_string_list(values) -%}
    ({%- for value in values -%}
        '{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%})
{%- endmacro %}

{#- The reporting currency as a string literal. -#}
{% macro reporting_currency() -%}
    '{{ var("reporting_currency", "USD") }}'
{%- endmacro %}
