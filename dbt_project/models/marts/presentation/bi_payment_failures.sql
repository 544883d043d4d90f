{#- fct_payment_failures for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_payment_failures. -#}
select
    as_of_date,
    payment_id,
    customer_id,
    currency,
    payment_date,
    {{ rounded('payment_amount', 2) }} as payment_amount,
    payment_method,
    failure_reason,
    payment_run_id,
    failed_attempt,
    retried_attempts,
    outcome,
    recovered_by_payment_id,
    written_off_by_credit_id,
    resolved_date,
    days_to_resolution
from {{ ref('fct_payment_failures') }}
