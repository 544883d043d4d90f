-- Dagster shows it as an asset check of fct_ar_aging (dagster-dbt attaches a test that reads
-- several models to the one named in meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'fct_ar_aging'}}}) }}
-- A Draft invoice never counts (revenue-rules §2, §9): not in AR (fct_ar_aging), not in
-- billings (int_invoice_lines_billed, which fct_deferred_revenue and the billings metric sum),
-- and no payment or credit applied to it is cash or credit applied (int_cash_events, which
-- fct_cash_monthly sums). fct_invoice_lines lists Draft lines with their invoice_status by
-- design (a register of every line, not a figure). One row per Draft invoice found.
with drafts as (

    select invoice_id from {{ ref('stg_ordway__invoices') }}
    where invoice_status = 'Draft'

),

counted as (

    select
        'fct_ar_aging' as model_name,
        invoice_id
    from {{ ref('fct_ar_aging') }}
    where document_type = 'invoice'

    union all

    select
        'int_invoice_lines_billed' as model_name,
        invoice_id
    from {{ ref('int_invoice_lines_billed') }}

    union all

    select
        'int_cash_events' as model_name,
        document_id as invoice_id
    from {{ ref('int_cash_events') }}
    where event_type in ('payment_applied', 'credit_applied')

)

select distinct
    counted.model_name,
    counted.invoice_id
from counted
inner join drafts on counted.invoice_id = drafts.invoice_id
