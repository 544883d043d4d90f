-- At every month-end, cumulative billings - cumulative recognized revenue, summed directly from
-- the billing events and the revenue schedule lines (not from the mart's running window),
-- equals the mart's closing balance (revenue-rules §4).
with events as (

    select month, customer_id, currency, billed_amount as amount
    from {{ ref('int_invoice_lines_billed') }}

    union all

    select month, customer_id, currency, -revenue_amount as amount
    from {{ ref('int_revenue_schedule_lines_dated') }}
    where is_recognized

),

expected as (

    select
        mart.month,
        mart.customer_id,
        mart.currency,
        mart.closing_balance,
        coalesce(sum(events.amount), 0) as cumulative_net
    from {{ ref('fct_deferred_revenue') }} as mart
    left join events
        on
            mart.customer_id = events.customer_id
            and mart.currency = events.currency
            and events.month <= mart.month
    group by mart.month, mart.customer_id, mart.currency, mart.closing_balance

)

select *
from expected
where cumulative_net <> closing_balance
