{#- fct_cash_monthly for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_cash_monthly. -#}
select
    month,
    customer_id,
    currency,
    {{ rounded('payments_received', 2) }} as payments_received,
    {{ rounded('payments_refunded', 2) }} as payments_refunded,
    {{ rounded('net_cash_received', 2) }} as net_cash_received,
    {{ rounded('payments_applied', 2) }} as payments_applied,
    {{ rounded('credits_issued', 2) }} as credits_issued,
    {{ rounded('credits_applied', 2) }} as credits_applied,
    failed_payment_attempts,
    {{ rounded('failed_payment_amount', 2) }} as failed_payment_amount
from {{ ref('fct_cash_monthly') }}
