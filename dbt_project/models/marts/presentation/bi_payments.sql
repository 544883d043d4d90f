{#- fct_payments for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_payments. -#}
select
    payment_id,
    customer_id,
    payment_date,
    payment_month,
    payment_status,
    payment_type,
    payment_method,
    currency,
    {{ rounded('payment_amount', 2) }} as payment_amount,
    {{ rounded('fee_amount', 2) }} as fee_amount,
    {{ rounded('applied_amount', 2) }} as applied_amount,
    {{ rounded('unapplied_amount', 2) }} as unapplied_amount,
    {{ rounded('refunded_amount', 2) }} as refunded_amount,
    is_collected
from {{ ref('fct_payments') }}
