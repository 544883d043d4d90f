-- Roll-forward per month, customer and currency (revenue-rules §4): opening + billings -
-- recognized = closing, opening = the previous month's closing, the spine has no gaps, and the
-- closing balance splits into deferred and unbilled. Returns the offending rows.
with balances as (

    select
        *,
        lag(closing_balance) over (partition by customer_id, currency order by month) as previous_closing,
        lag(month) over (partition by customer_id, currency order by month) as previous_month
    from {{ ref('fct_deferred_revenue') }}

)

select *
from balances
where
    opening_balance + billings - recognized_revenue <> closing_balance
    or opening_balance <> coalesce(previous_closing, 0)
    or (previous_month is not null and month <> {{ dbt.dateadd('month', 1, 'previous_month') }})
    or closing_deferred - closing_unbilled <> closing_balance
    or closing_deferred < 0
    or closing_unbilled < 0
