{#- make_date / date_from_parts, dispatched. -#}
{% macro make_date(year, month, day) -%}
    {{ return(adapter.dispatch('make_date')(year, month, day)) }}
{%- endmacro %}

{% macro default__make_date(year, month, day) -%}
    date_from_parts({{ year }}, {{ month }}, {{ day }})
{%- endmacro %}

{% macro duckdb__make_date(year, month, day) -%}
    make_date(cast({{ year }} as integer), cast({{ month }} as integer), cast({{ day }} as integer))
{%- endmacro %}

{#- Last day of the month of a date, as a date. -#}
{% macro month_end(date_expr) -%}
    cast({{ dbt.last_day(date_expr, 'month') }} as date)
{%- endmacro %}

{#- First day of the month of a date, as a date. -#}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}

{#- Ordway financial_period ("May 2025", "Sep 2025", "September 2025") -> first day of that
    month. Month names are matched on their first three letters, case-insensitively;
    anything unparseable gives null (and fails the not_null test on the staging column). -#}
{% macro parse_financial_period(column) -%}
    {%- set months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] -%}
    case
        {%- for name in months %}
            when lower(substr(trim({{ column }}), 1, 3)) = '{{ name }}'
                then {{ make_date(dbt.safe_cast(dbt.split_part('trim(' ~ column ~ ')', "' '", 2), dbt.type_int()), loop.index, 1) }}
        {%- endfor %}
    end
{%- endmacro %}

{#- Months in one Ordway billing period: Monthly 1, Quarterly 3, Semi-annually 6, Annually 12,
    "N Months" N, "N Years" 12N (revenue-rules §5). Unknown values give null. -#}
{% macro months_per_billing_period(column) -%}
    case
        when lower(trim({{ column }})) = 'monthly' then 1
        when lower(trim({{ column }})) = 'quarterly' then 3
        when lower(trim({{ column }})) in ('semi-annually', 'semi-annual', 'semiannually') then 6
        when lower(trim({{ column }})) in ('annually', 'annual', 'yearly') then 12
        when lower(trim({{ column }})) like '% month' or lower(trim({{ column }})) like '% months'
            then {{ dbt.safe_cast(dbt.split_part('trim(' ~ column ~ ')', "' '", 1), dbt.type_int()) }}
        when lower(trim({{ column }})) like '% year' or lower(trim({{ column }})) like '% years'
            then 12 * {{ dbt.safe_cast(dbt.split_part('trim(' ~ column ~ ')', "' '", 1), dbt.type_int()) }}
    end
{%- endmacro %}

{#- dbt.datediff with the adapter macro's surrounding whitespace trimmed (keeps compiled SQL
    readable and within the line length). -#}
{% macro date_diff(first_date, second_date, datepart) -%}
    {{ dbt.datediff(first_date, second_date, datepart) | trim }}
{%- endmacro %}

{#- Timestamps with a time zone (the audit timestamps Ordway sends, loaded by dlt as
    TIMESTAMP WITH TIME ZONE / TIMESTAMP_TZ); the same name works on both adapters. -#}
{% macro timestamp_tz_type() -%}
    timestamp with time zone
{%- endmacro %}
