{#- fct_deferred_revenue for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_deferred_revenue. -#}
select
    month,
    customer_id,
    currency,
    {{ rounded('opening_balance', 2) }} as opening_balance,
    {{ rounded('billings', 2) }} as billings,
    {{ rounded('recognized_revenue', 2) }} as recognized_revenue,
    {{ rounded('closing_balance', 2) }} as closing_balance,
    {{ rounded('closing_deferred', 2) }} as closing_deferred,
    {{ rounded('closing_unbilled', 2) }} as closing_unbilled
from {{ ref('fct_deferred_revenue') }}
