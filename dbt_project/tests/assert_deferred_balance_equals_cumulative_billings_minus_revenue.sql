-- Dagster shows it as an asset check of fct_deferred_revenue (dagster-dbt attaches a test that
-- reads several models to the one named in meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'fct_deferred_revenue'}}}) }}
-- At every month-end, cumulative billings - cumulative recognized revenue, summed directly from
-- the billing events and the revenue schedule lines (not from the mart's running window),
-- equals the mart's closing balance (revenue-rules §4).
with events as (

    select
        month,
        customer_id,
        currency,
        billed_amount as amount
    from {{ ref('int_invoice_lines_billed') }}

    union all

    select
        month,
        customer_id,
        currency,
        -revenue_amount as amount
    from {{ ref('int_revenue_schedule_lines_dated') }}
    where is_recognized

),

monthly as (

    select
        month,
        customer_id,
        currency,
        sum(amount) as net_amount
    from events
    group by month, customer_id, currency

),

expected as (

    select
        mart.month,
        mart.customer_id,
        mart.currency,
        mart.closing_balance,
        coalesce(sum(monthly.net_amount), 0) as cumulative_net
    from {{ ref('fct_deferred_revenue') }} as mart
    left join monthly
        on
            mart.customer_id = monthly.customer_id
            and mart.currency = monthly.currency
            and mart.month >= monthly.month
    group by mart.month, mart.customer_id, mart.currency, mart.closing_balance

)

select *
from expected
where cumulative_net <> closing_balance
