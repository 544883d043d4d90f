{#- Failed payment attempts and their outcome on the as-of date (fct_payment_failures.yml and
    revenue-rules §10 state the rules). A failed payment names no invoice (it applies
    nothing), so what settled it is inferred from what the customer paid or was credited
    afterwards in the same currency, for documents that were already owed when it failed. -#}
with payments as (

    select
        payment_id,
        customer_id,
        currency,
        payment_date,
        payment_status,
        payment_amount,
        payment_method,
        failure_reason,
        nullif(payment_run_id, '') as payment_run_id,
        coalesce(failed_attempt, 0) as failed_attempt,
        coalesce(retried_attempts, 0) as retried_attempts
    from {{ ref('stg_ordway__payments') }}
    where payment_date <= {{ as_of_date() }}

),

failures as (

    select * from payments
    where payment_status = 'Failed'

),

invoices as (

    select
        invoice_id,
        invoice_date,
        invoice_status,
        balance_amount
    from {{ ref('stg_ordway__invoices') }}

),

-- received payments with the earliest invoice date they were applied to
received as (

    select
        payments.payment_id,
        payments.customer_id,
        payments.currency,
        payments.payment_date,
        payments.payment_amount,
        payments.payment_run_id,
        payments.retried_attempts,
        min(invoices.invoice_date) as first_invoice_date
    from payments
    inner join {{ ref('stg_ordway__payment_applications') }} as applications
        on payments.payment_id = applications.payment_id
    inner join invoices on applications.document_id = invoices.invoice_id
    where
        payments.payment_status in {{ sql_string_list(var('collected_payment_statuses')) }}
        and invoices.invoice_status <> 'Draft'
    group by
        payments.payment_id,
        payments.customer_id,
        payments.currency,
        payments.payment_date,
        payments.payment_amount,
        payments.payment_run_id,
        payments.retried_attempts

),

recoveries as (

    select
        failures.payment_id,
        received.payment_id as recovered_by_payment_id,
        received.payment_date as recovered_date,
        row_number() over (
            partition by failures.payment_id
            order by received.payment_date, received.payment_id
        ) as rank_in_failure
    from failures
    inner join received
        on
            failures.customer_id = received.customer_id
            and failures.currency = received.currency
            and failures.payment_date <= received.payment_date
            and failures.payment_date >= received.first_invoice_date
            and (
                failures.payment_amount = received.payment_amount
                or (
                    failures.payment_run_id is not null
                    and received.payment_run_id is not null
                    and failures.failed_attempt <= received.retried_attempts
                )
            )

),

-- issued credits applied to an invoice that is settled now (balance <= 0)
settling_credits as (

    select
        credits.credit_id,
        credits.customer_id,
        credits.currency,
        credits.credit_date,
        min(invoices.invoice_date) as first_invoice_date
    from {{ ref('stg_ordway__credits') }} as credits
    inner join {{ ref('stg_ordway__credit_applications') }} as applications
        on credits.credit_id = applications.credit_id
    inner join invoices on applications.document_id = invoices.invoice_id
    where
        credits.credit_status in {{ sql_string_list(var('issued_credit_statuses')) }}
        and credits.credit_date <= {{ as_of_date() }}
        and invoices.invoice_status <> 'Draft'
        and invoices.balance_amount <= 0
    group by
        credits.credit_id,
        credits.customer_id,
        credits.currency,
        credits.credit_date

),

write_offs as (

    select
        failures.payment_id,
        settling_credits.credit_id as written_off_by_credit_id,
        settling_credits.credit_date as written_off_date,
        row_number() over (
            partition by failures.payment_id
            order by settling_credits.credit_date, settling_credits.credit_id
        ) as rank_in_failure
    from failures
    inner join settling_credits
        on
            failures.customer_id = settling_credits.customer_id
            and failures.currency = settling_credits.currency
            and failures.payment_date <= settling_credits.credit_date
            and failures.payment_date >= settling_credits.first_invoice_date

),

-- the payment run's attempts for the customer and currency from each failure on
later_run_attempts as (

    select
        failures.payment_id,
        max(attempts.payment_date) as last_attempt_date,
        max(attempts.failed_attempt) as highest_failed_attempt
    from failures
    inner join failures as attempts
        on
            failures.customer_id = attempts.customer_id
            and failures.currency = attempts.currency
            and failures.payment_date <= attempts.payment_date
            and attempts.payment_run_id is not null
    where failures.payment_run_id is not null
    group by failures.payment_id

),

classified as (

    select
        failures.*,
        recoveries.recovered_by_payment_id,
        write_offs.written_off_by_credit_id,
        case
            when recoveries.recovered_by_payment_id is not null then 'recovered'
            when write_offs.written_off_by_credit_id is not null then 'written_off'
            when
                failures.payment_run_id is not null
                and failures.failed_attempt < {{ var('payment_run_max_attempts') }}
                and later_run_attempts.highest_failed_attempt < {{ var('payment_run_max_attempts') }}
                and {{ date_diff('later_run_attempts.last_attempt_date', as_of_date(), 'day') }}
                <= {{ var('payment_retry_days') }}
                then 'retrying'
            else 'failed'
        end as outcome,
        case
            when recoveries.recovered_by_payment_id is not null then recoveries.recovered_date
            when write_offs.written_off_by_credit_id is not null then write_offs.written_off_date
        end as resolved_date
    from failures
    left join recoveries
        on failures.payment_id = recoveries.payment_id and recoveries.rank_in_failure = 1
    left join write_offs
        on failures.payment_id = write_offs.payment_id and write_offs.rank_in_failure = 1
    left join later_run_attempts on failures.payment_id = later_run_attempts.payment_id

)

select
    {{ as_of_date() }} as as_of_date,
    payment_id,
    customer_id,
    currency,
    payment_date,
    cast(payment_amount as {{ money_type() }}) as payment_amount,
    payment_method,
    failure_reason,
    payment_run_id,
    cast(failed_attempt as integer) as failed_attempt,
    cast(retried_attempts as integer) as retried_attempts,
    outcome,
    recovered_by_payment_id,
    case when outcome = 'written_off' then written_off_by_credit_id end as written_off_by_credit_id,
    resolved_date,
    cast({{ date_diff('payment_date', 'resolved_date', 'day') }} as integer) as days_to_resolution
from classified
