{#- The customer's months from its first month with MRR > 0 through the
    month after its last one (capped at the as-of month), 0 where nothing is active, so churn
    rows exist. Reporting currency at the subscriptions' constant rates. Movements follow
    revenue-rules §5, evaluated in order: new, reactivation, churn, expansion, contraction,
    unchanged. -#}
with monthly as (

    select * from {{ ref('int_customer_mrr_monthly') }}

),

bounds as (

    select
        customer_id,
        min(month) as first_month,
        max(month) as last_month
    from monthly
    where mrr > 0
    group by customer_id

),

spine as (

    select
        bounds.customer_id,
        months.month
    from bounds
    inner join {{ ref('int_months') }} as months
        on
            bounds.first_month <= months.month
            and months.month <= {{ dbt.dateadd('month', 1, 'bounds.last_month') }}
            and months.is_reported

),

filled as (

    select
        spine.month,
        spine.customer_id,
        case when monthly.customer_id is null then 0 else monthly.mrr end as mrr,
        case when monthly.customer_id is null then 0 else monthly.gross_mrr end as gross_mrr
    from spine
    left join monthly
        on spine.customer_id = monthly.customer_id and spine.month = monthly.month

),

with_history as (

    select
        month,
        customer_id,
        mrr,
        gross_mrr,
        coalesce(lag(mrr) over (partition by customer_id order by month), 0) as previous_mrr,
        coalesce(
            max(case when mrr > 0 then 1 else 0 end) over (
                partition by customer_id
                order by month
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as had_mrr_before
    from filled

)

select
    month,
    customer_id,
    cast(mrr as {{ money_type() }}) as mrr,
    cast(12 * mrr as {{ money_type() }}) as arr,
    cast(gross_mrr as {{ money_type() }}) as gross_mrr,
    cast(gross_mrr - mrr as {{ money_type() }}) as discount_mrr,
    cast(previous_mrr as {{ money_type() }}) as previous_mrr,
    cast(mrr - previous_mrr as {{ money_type() }}) as mrr_change,
    case
        when previous_mrr = 0 and mrr > 0 and had_mrr_before = 0 then 'new'
        when previous_mrr = 0 and mrr > 0 then 'reactivation'
        when previous_mrr > 0 and mrr = 0 then 'churn'
        when mrr > previous_mrr then 'expansion'
        when mrr < previous_mrr then 'contraction'
        else 'unchanged'
    end as movement
from with_history
