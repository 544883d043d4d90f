{#- The roll-forward on a continuous month spine from the first month
    with activity through the as-of month: opening + billings - recognized = closing; the net
    position splits into deferred revenue (closing > 0) and unbilled revenue (closing < 0). -#}
with activity as (

    select * from {{ ref('int_deferred_revenue_activity') }}

),

bounds as (

    select
        customer_id,
        currency,
        min(month) as first_month
    from activity
    group by customer_id, currency

),

spine as (

    select
        months.month,
        bounds.customer_id,
        bounds.currency
    from bounds
    inner join {{ ref('int_months') }} as months
        on bounds.first_month <= months.month and months.is_reported

),

filled as (

    select
        spine.month,
        spine.customer_id,
        spine.currency,
        coalesce(activity.billings, 0) as billings,
        coalesce(activity.recognized_revenue, 0) as recognized_revenue
    from spine
    left join activity
        on
            spine.month = activity.month
            and spine.customer_id = activity.customer_id
            and spine.currency = activity.currency

),

balances as (

    select
        month,
        customer_id,
        currency,
        billings,
        recognized_revenue,
        sum(billings - recognized_revenue) over (
            partition by customer_id, currency
            order by month
            rows between unbounded preceding and current row
        ) as closing_balance
    from filled

)

select
    month,
    customer_id,
    currency,
    cast(
        coalesce(
            lag(closing_balance) over (partition by customer_id, currency order by month), 0
        ) as {{ money_type() }}
    ) as opening_balance,
    cast(billings as {{ money_type() }}) as billings,
    cast(recognized_revenue as {{ money_type() }}) as recognized_revenue,
    cast(closing_balance as {{ money_type() }}) as closing_balance,
    cast(case when closing_balance > 0 then closing_balance else 0 end as {{ money_type() }})
        as closing_deferred,
    cast(case when closing_balance < 0 then -closing_balance else 0 end as {{ money_type() }})
        as closing_unbilled
from balances
