{#- Every payment, whatever its status (Failed payments have applied_amount 0). Cash
    collected is payment_amount of the payments in var collected_payment_statuses
    (is_collected). -#}
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
    refunded_amount,
    coalesce(payment_status in {{ sql_string_list(var('collected_payment_statuses')) }}, false) as is_collected
from {{ ref('stg_ordway__payments') }}
