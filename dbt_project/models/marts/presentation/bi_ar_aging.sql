{#- fct_ar_aging for people and BI tools: money rounded half away from zero to cents;
    the exact values stay in fct_ar_aging. -#}
select
    as_of_date,
    invoice_id,
    customer_id,
    currency,
    {{ rounded('balance', 2) }} as balance,
    due_date,
    days_past_due,
    aging_bucket,
    document_type
from {{ ref('fct_ar_aging') }}
