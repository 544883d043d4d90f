{#- Conversion into the reporting currency (revenue-rules §1 and this project's policy notes).

    A document's exchange_rate is reporting-currency units per one unit of its currency. A
    document in the reporting currency without a rate converts at 1; a document in another
    currency without a positive rate has no reporting amount: the data tests
    `*_carry_an_exchange_rate` fail the build naming it, and every reporting-currency total
    that would include it is null (sum_or_null), never short. -#}

{#- The rate a document converts at: its exchange_rate, 1 for the reporting currency, else
    null. -#}
{% macro reporting_rate(exchange_rate, currency) -%}
    coalesce({{ exchange_rate }}, case when {{ currency }} = {{ reporting_currency() }} then 1 end)
{%- endmacro %}

{#- An amount in reporting currency: amount x rate (an exact DECIMAL(38, 20) product while
    |amount x rate| < 1e18), rounded half away from zero to money_type's 10 decimals. -#}
{% macro to_reporting_currency(amount, exchange_rate, currency) -%}
    cast({{ amount }} * {{ reporting_rate(exchange_rate, currency) }} as {{ money_type() }})
{%- endmacro %}

{#- sum() that is null as soon as one input is null (SQL's sum skips nulls, which would make a
    reporting-currency total silently short). -#}
{% macro sum_or_null(expression) -%}
    case when count(*) = count({{ expression }}) then sum({{ expression }}) end
{%- endmacro %}
