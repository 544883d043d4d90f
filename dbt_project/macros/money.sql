{#- Money and other exact quantities: DECIMAL with scale 10, never FLOAT. -#}
{% macro money_type() -%}
    numeric(38, 10)
{%- endmacro %}

{#- Exact decimal division, rounded half away from zero to `scale` digits.

    Bounds (docs/revenue-rules.md, "Arithmetic bounds"): the numerator keeps 12 decimals and
    must be below 1e26 in magnitude; the denominator keeps 10 decimals and must be below 1e23
    (day and month counts, cohort ARR). A denominator of 0 or null gives null.

    DuckDB turns DECIMAL / DECIMAL into DOUBLE, and DECIMAL(38) arithmetic overflows once an
    intermediate needs more than 38 digits, so its implementation works on HUGEINTs: N = the
    numerator in units of 1e-12, D = the denominator in units of 1e-10, both built from their
    integer and fractional parts without a wide multiplication; the quotient is truncated
    toward zero at `scale` + 1 digits by long division (N // D, then the remainder's digits, at
    most 5 at a time so no product exceeds 1.7e38) and rounded half away from zero. -#}
{% macro decimal_divide(numerator, denominator, scale=10) -%}
    {{ return(adapter.dispatch('decimal_divide')(numerator, denominator, scale)) }}
{%- endmacro %}

{#- Snowflake: NUMBER division is exact to the result scale max(S1, min(S1 + 6, 12)); a
    numerator of scale 16 keeps 16 decimals (22 integer digits) before rounding to `scale`. The
    result is typed numeric(38, scale) (what the marts' contracts declare). -#}
{% macro default__decimal_divide(numerator, denominator, scale=10) -%}
    cast(
        round(cast({{ numerator }} as numeric(38, 16)) / nullif({{ denominator }}, 0), {{ scale }})
        as numeric(38, {{ scale }})
    )
{%- endmacro %}

{#- An exact decimal as a HUGEINT in units of 10^-digits (integer and fractional parts
    separately, so no intermediate DECIMAL(38) product can overflow). -#}
{% macro hugeint_units(expression, digits) -%}
    {%- set value = 'cast(' ~ expression ~ ' as decimal(38, ' ~ digits ~ '))' -%}
    {%- set unit = '1' ~ '0' * digits -%}
    (cast(trunc({{ value }}) as hugeint) * {{ unit }}
    + cast(({{ value }} - trunc({{ value }})) * {{ unit }} as hugeint))
{%- endmacro %}

{% macro duckdb__decimal_divide(numerator, denominator, scale=10) -%}
    {%- set numerator_digits, denominator_digits = 12, 10 -%}
    {%- set n = hugeint_units(numerator, numerator_digits) -%}
    {%- set d = 'nullif(' ~ hugeint_units(denominator, denominator_digits) ~ ', 0)' -%}
    {#- quotient digits after the decimal point still to produce: N / D carries
        denominator_digits - numerator_digits of them already -#}
    {%- set state = namespace(
        remaining=scale + 1 + denominator_digits - numerator_digits,
        remainder='(' ~ n ~ ' % ' ~ d ~ ')',
        terms=[]
    ) -%}
    {%- if state.remaining <= 0 -%}
        {%- do state.terms.append('(' ~ n ~ ' // (' ~ d ~ ' * 1' ~ '0' * (0 - state.remaining) ~ '))') -%}
    {%- else -%}
        {%- do state.terms.append('(' ~ n ~ ' // ' ~ d ~ ') * 1' ~ '0' * state.remaining) -%}
        {%- for _ in range(state.remaining) -%}
            {%- if state.remaining > 0 -%}
                {%- set step = [5, state.remaining] | min -%}
                {%- set shifted = '(' ~ state.remainder ~ ' * 1' ~ '0' * step ~ ')' -%}
                {%- set state.remaining = state.remaining - step -%}
                {%- do state.terms.append('(' ~ shifted ~ ' // ' ~ d ~ ') * 1' ~ '0' * state.remaining) -%}
                {%- set state.remainder = '(' ~ shifted ~ ' % ' ~ d ~ ')' -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    round(
        cast({{ state.terms | join('\n        + ') }} as decimal(38, 0))
        * cast(0.{{ '0' * scale }}1 as decimal(38, {{ scale + 1 }})),
        {{ scale }}
    )
{%- endmacro %}

{#- A figure at presentation precision (marts/presentation): rounded half away from zero (ROUND
    on both DuckDB and Snowflake) to `scale` decimals and typed numeric(38, scale). -#}
{% macro rounded(expression, scale=2) -%}
    cast(round({{ expression }}, {{ scale }}) as numeric(38, {{ scale }}))
{%- endmacro %}
