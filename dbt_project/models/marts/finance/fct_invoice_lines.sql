{#- Invoice lines of every status (Draft included; filter on invoice_status). Amounts
    in document currency and, at the invoice's exchange rate, in reporting currency. -#}
select
    {{ dbt.concat(['invoices.invoice_id', "'-'", 'invoice_lines.line_no']) }} as invoice_line_key,
    invoices.invoice_id,
    invoice_lines.line_no,
    invoices.customer_id,
    invoices.invoice_date,
    invoices.due_date,
    invoices.invoice_status,
    invoices.reversed_date,
    invoice_lines.subscription_id,
    invoice_lines.subscription_line_id,
    invoice_lines.charge_id,
    invoice_lines.product_id,
    invoice_lines.plan_id,
    invoice_lines.charge_type,
    invoice_lines.description,
    invoice_lines.start_date,
    invoice_lines.end_date,
    invoices.currency,
    invoices.exchange_rate,
    invoice_lines.unit_price,
    invoice_lines.list_price,
    invoice_lines.quantity,
    invoice_lines.discount_percent,
    invoice_lines.billed_amount,
    invoice_lines.tax_amount,
    invoice_lines.is_taxable,
    {{ to_reporting_currency('invoice_lines.billed_amount', 'invoices.exchange_rate', 'invoices.currency') }}
        as billed_amount_reporting
from {{ ref('stg_ordway__invoice_lines') }} as invoice_lines
inner join {{ ref('stg_ordway__invoices') }} as invoices on invoice_lines.invoice_id = invoices.invoice_id
