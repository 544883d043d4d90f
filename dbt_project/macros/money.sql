{#- Money and other exact quantities: DECIMAL with scale 10, never FLOAT. -#}
{% macro money_type() -%}
    numeric(38, 10)
{%- endmacro %}

{#- Exact decimal division, rounded half away from zero to `scale` digits.
    The denominator must be positive (day counts, month counts, cohort totals); 0 or null
    gives null. DuckDB turns DECIMAL / DECIMAL into DOUBLE, so its implementation divides
    scaled HUGEINTs (truncating toward zero at scale + 1 digits, then rounding), which is exact
    for numerators with up to 12 decimals and magnitudes below 1e14. -#}
{% macro decimal_divide(numerator, denominator, scale=10) -%}
    {{ return(adapter.dispatch('decimal_divide')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__decimal_divide(numerator, denominator, scale=10) -%}
    round(
        cast({{ numerator }} as numeric(38, {{ scale + 12 if scale + 12 <= 37 else 37 }}))
        / nullif({{ denominator }}, 0),
        {{ scale }}
    )
{%- endmacro %}

{% macro duckdb__decimal_divide(numerator, denominator, scale=10) -%}
    round(
        cast(
            (
                cast(cast({{ numerator }} as decimal(38, 12)) * 1000000000000 as hugeint)
                * cast(1{{ '0' * (scale + 1) }} as hugeint)
            )
            // nullif(cast(cast({{ denominator }} as decimal(38, 12)) * 1000000000000 as hugeint), 0)
            as decimal(38, 0)
        ) * cast(0.{{ '0' * scale }}1 as decimal(38, {{ scale + 1 }})),
        {{ scale }}
    )
{%- endmacro %}
