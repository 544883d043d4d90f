{#- Cash and credit events (revenue-rules §9), every date (fct_cash_monthly stops at the as-of
    date), in the document currency of the payment, refund or credit:
    - payment_received: payment_amount of a payment whose status is in var
      collected_payment_statuses, on payment_date (gross of later refunds);
    - payment_failed: payment_amount of a Failed payment (an attempt that collected nothing),
      on payment_date;
    - payment_applied: amount_applied of a received payment's application to a document, on
      the application's date (else payment_date);
    - refund: refund_amount of a refund whose refund_status is in var
      succeeded_refund_statuses, on refund_date, whatever it refunds (a payment, a credit
      balance, an invoice) or none (standalone);
    - credit_issued: credit_amount of a credit whose status is in var issued_credit_statuses,
      on credit_date;
    - credit_applied: amount_applied of an issued credit's application to a document, on the
      application's date (else credit_date).
    An application to a Draft invoice never counts. -#}
with payments as (

    select * from {{ ref('stg_ordway__payments') }}

),

credits as (

    select * from {{ ref('stg_ordway__credits') }}

),

draft_invoices as (

    select invoice_id from {{ ref('stg_ordway__invoices') }}
    where invoice_status = 'Draft'

),

received_payments as (

    select * from payments
    where payment_status in {{ sql_string_list(var('collected_payment_statuses')) }}

),

issued_credits as (

    select * from credits
    where credit_status in {{ sql_string_list(var('issued_credit_statuses')) }}

),

events as (

    select
        'payment_received' as event_type,
        payment_id as event_id,
        payment_id as source_id,
        cast(null as varchar) as document_id,
        customer_id,
        currency,
        payment_date as event_date,
        payment_amount as amount
    from received_payments

    union all

    select
        'payment_failed' as event_type,
        payment_id as event_id,
        payment_id as source_id,
        cast(null as varchar) as document_id,
        customer_id,
        currency,
        payment_date as event_date,
        payment_amount as amount
    from payments
    where payment_status = 'Failed'

    union all

    select
        'payment_applied' as event_type,
        {{ dbt.concat(['applications.payment_id', "'#'", 'cast(applications.list_index as varchar)']) }} as event_id,
        applications.payment_id as source_id,
        applications.document_id,
        received_payments.customer_id,
        received_payments.currency,
        coalesce(applications.applied_date, received_payments.payment_date) as event_date,
        applications.applied_amount as amount
    from {{ ref('stg_ordway__payment_applications') }} as applications
    inner join received_payments on applications.payment_id = received_payments.payment_id
    left join draft_invoices on applications.document_id = draft_invoices.invoice_id
    where draft_invoices.invoice_id is null

    union all

    select
        'refund' as event_type,
        refund_id as event_id,
        refund_id as source_id,
        coalesce(invoice_id, payment_id, credit_id) as document_id,
        customer_id,
        currency,
        refund_date as event_date,
        refund_amount as amount
    from {{ ref('stg_ordway__refunds') }}
    where refund_status in {{ sql_string_list(var('succeeded_refund_statuses')) }}

    union all

    select
        'credit_issued' as event_type,
        credit_id as event_id,
        credit_id as source_id,
        cast(null as varchar) as document_id,
        customer_id,
        currency,
        credit_date as event_date,
        credit_amount as amount
    from issued_credits

    union all

    select
        'credit_applied' as event_type,
        {{ dbt.concat(['applications.credit_id', "'#'", 'cast(applications.list_index as varchar)']) }} as event_id,
        applications.credit_id as source_id,
        applications.document_id,
        issued_credits.customer_id,
        issued_credits.currency,
        coalesce(applications.applied_date, issued_credits.credit_date) as event_date,
        applications.applied_amount as amount
    from {{ ref('stg_ordway__credit_applications') }} as applications
    inner join issued_credits on applications.credit_id = issued_credits.credit_id
    left join draft_invoices on applications.document_id = draft_invoices.invoice_id
    where draft_invoices.invoice_id is null

)

select
    event_type,
    event_id,
    source_id,
    document_id,
    customer_id,
    currency,
    event_date,
    {{ month_start('event_date') }} as month,
    cast(amount as {{ money_type() }}) as amount
from events
