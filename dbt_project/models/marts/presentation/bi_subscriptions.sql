{#- dim_subscriptions for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in dim_subscriptions. -#}
select
    subscription_id,
    customer_id,
    subscription_status,
    currency,
    exchange_rate,
    billing_start_date,
    service_start_date,
    contract_effective_date,
    cancellation_date,
    is_auto_renew,
    contract_term,
    renewal_term,
    version,
    {{ rounded('cmrr_amount', 2) }} as cmrr_amount,
    {{ rounded('discounted_cmrr_amount', 2) }} as discounted_cmrr_amount,
    {{ rounded('tcv_amount', 2) }} as tcv_amount,
    line_count,
    first_charge_start_date,
    last_charge_end_date,
    created_at,
    updated_at
from {{ ref('dim_subscriptions') }}
