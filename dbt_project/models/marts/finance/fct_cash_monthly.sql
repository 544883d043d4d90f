{#- The cash and credit events of int_cash_events summed per month, customer and document
    currency, for the reported months (int_months) up to the as-of date (revenue-rules §9). -#}
{%- set figures = {
    'payments_received': 'payment_received',
    'payments_refunded': 'refund',
    'payments_applied': 'payment_applied',
    'credits_issued': 'credit_issued',
    'credits_applied': 'credit_applied',
    'failed_payment_amount': 'payment_failed',
} -%}
with events as (

    select events.*
    from {{ ref('int_cash_events') }} as events
    inner join {{ ref('int_months') }} as months
        on events.month = months.month and months.is_reported
    where events.event_date <= {{ as_of_date() }}

),

monthly as (

    select
        month,
        customer_id,
        currency,
        {%- for column, event_type in figures.items() %}
            sum(case when event_type = '{{ event_type }}' then amount else 0 end) as {{ column }},
        {%- endfor %}
        sum(case when event_type = 'payment_failed' then 1 else 0 end) as failed_payment_attempts
    from events
    group by month, customer_id, currency

)

select
    month,
    customer_id,
    currency,
    cast(payments_received as {{ money_type() }}) as payments_received,
    cast(payments_refunded as {{ money_type() }}) as payments_refunded,
    cast(payments_received - payments_refunded as {{ money_type() }}) as net_cash_received,
    cast(payments_applied as {{ money_type() }}) as payments_applied,
    cast(credits_issued as {{ money_type() }}) as credits_issued,
    cast(credits_applied as {{ money_type() }}) as credits_applied,
    cast(failed_payment_attempts as integer) as failed_payment_attempts,
    cast(failed_payment_amount as {{ money_type() }}) as failed_payment_amount
from monthly
