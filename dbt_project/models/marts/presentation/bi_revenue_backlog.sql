{#- fct_revenue_backlog for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_revenue_backlog. -#}
select
    month,
    customer_id,
    currency,
    is_unposted_past_period,
    {{ rounded('scheduled_revenue', 2) }} as scheduled_revenue
from {{ ref('fct_revenue_backlog') }}
