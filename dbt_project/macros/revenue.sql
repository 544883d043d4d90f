{#- Posted revenue (project policy, docs/revenue-rules.md "Posted lines"): a revenue schedule
    line is recognized when Ordway has posted it (`posted` = "Yes") and its financial period is
    on or before the as-of month. Every other line, whatever its period, is scheduled revenue
    (fct_revenue_backlog). -#}
{% macro revenue_line_is_posted(posted_flag) -%}
    coalesce(lower({{ posted_flag }}) = 'yes', false)
{%- endmacro %}

{% macro revenue_line_is_recognized(posted_flag, revenue_month) -%}
    ({{ revenue_line_is_posted(posted_flag) }} and {{ revenue_month }} <= {{ as_of_month() }})
{%- endmacro %}
