{#- dim_customers for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in dim_customers. -#}
select
    customer_id,
    customer_name,
    customer_status,
    currency,
    payment_terms,
    billing_cycle_day,
    is_tax_exempt,
    segment,
    salesforce_id,
    {{ rounded('open_balance_amount', 2) }} as open_balance_amount,
    {{ rounded('cmrr_amount', 2) }} as cmrr_amount,
    {{ rounded('discounted_cmrr_amount', 2) }} as discounted_cmrr_amount,
    first_mrr_month,
    {{ rounded('current_mrr', 2) }} as current_mrr,
    {{ rounded('current_arr', 2) }} as current_arr,
    created_at,
    updated_at
from {{ ref('dim_customers') }}
