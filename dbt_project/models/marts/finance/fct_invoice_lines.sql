{#- One row per invoice line (all statuses, Draft included; filter on invoice_status). Amounts
    in document currency and, at the invoice's exchange rate, in reporting currency. -#}
select
    {{ dbt.concat(['invoices.invoice_id', "'-'", 'lines.line_no']) }} as invoice_line_key,
    invoices.invoice_id,
    lines.line_no,
    invoices.customer_id,
    invoices.invoice_date,
    invoices.due_date,
    invoices.invoice_status,
    invoices.reversed_date,
    lines.subscription_id,
    lines.subscription_line_id,
    lines.charge_id,
    lines.product_id,
    lines.plan_id,
    lines.charge_type,
    lines.description,
    lines.start_date,
    lines.end_date,
    invoices.currency,
    invoices.exchange_rate,
    lines.unit_price,
    lines.list_price,
    lines.quantity,
    lines.discount_percent,
    lines.billed_amount,
    lines.tax_amount,
    lines.is_taxable,
    cast(
        lines.billed_amount * coalesce(
            invoices.exchange_rate,
            case when invoices.currency = {{ reporting_currency() }} then 1 end
        ) as {{ money_type() }}
    ) as billed_amount_reporting
from {{ ref('stg_ordway__invoice_lines') }} as lines
inner join {{ ref('stg_ordway__invoices') }} as invoices on lines.invoice_id = invoices.invoice_id
