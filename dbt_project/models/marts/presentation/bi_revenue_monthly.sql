{#- fct_revenue_monthly for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_revenue_monthly. -#}
select
    month,
    customer_id,
    currency,
    {{ rounded('recognized_revenue', 2) }} as recognized_revenue,
    {{ rounded('recognized_revenue_reporting', 2) }} as recognized_revenue_reporting
from {{ ref('fct_revenue_monthly') }}
