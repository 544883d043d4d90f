{#- One row per payment (all statuses; Failed payments have applied_amount 0). -#}
select
    payment_id,
    customer_id,
    payment_date,
    {{ month_start('payment_date') }} as payment_month,
    payment_status,
    payment_type,
    payment_method,
    currency,
    payment_amount,
    fee_amount,
    applied_amount,
    unapplied_amount,
    refunded_amount
from {{ ref('stg_ordway__payments') }}
