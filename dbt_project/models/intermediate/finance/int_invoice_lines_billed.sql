{#- Billing events: every billed invoice line counts in the month of
    its invoice_date ("invoice"); a Reversed invoice's lines count again, negated, in the month
    of reversed_on ("reversal"; reversed_on missing = reversed in its own month). Draft never
    counts. Only documents dated on or before the as-of date. Amounts exclude tax; the
    reporting amount converts at the invoice's exchange_rate. -#}
with invoices as (

    select * from {{ ref('stg_ordway__invoices') }}
    where invoice_status in {{ sql_string_list(var('billed_invoice_statuses')) }}

),

lines as (

    select
        invoices.invoice_id,
        invoice_lines.line_no,
        invoices.customer_id,
        invoices.currency,
        invoices.exchange_rate,
        invoices.invoice_status,
        invoices.invoice_date,
        coalesce(invoices.reversed_date, invoices.invoice_date) as reversal_date,
        invoice_lines.billed_amount
    from {{ ref('stg_ordway__invoice_lines') }} as invoice_lines
    inner join invoices on invoice_lines.invoice_id = invoices.invoice_id

),

events as (

    select
        invoice_id,
        line_no,
        customer_id,
        currency,
        exchange_rate,
        'invoice' as billing_event,
        invoice_date as billing_date,
        billed_amount
    from lines
    where invoice_date <= {{ as_of_date() }}

    union all

    select
        invoice_id,
        line_no,
        customer_id,
        currency,
        exchange_rate,
        'reversal' as billing_event,
        reversal_date as billing_date,
        -billed_amount as billed_amount
    from lines
    where invoice_status = 'Reversed' and reversal_date <= {{ as_of_date() }}

)

select
    invoice_id,
    line_no,
    billing_event,
    customer_id,
    currency,
    billing_date,
    {{ month_start('billing_date') }} as month,
    billed_amount,
    {{ to_reporting_currency('billed_amount', 'exchange_rate', 'currency') }} as billed_amount_reporting
from events
