{#- The ARR bridge opening + new + reactivation + expansion + contraction + churn = closing
    (contraction and churn negative) and customer counts, summed from fct_mrr's movements.
    ARR = 12 * MRR, reporting currency. Logo churn rate = churned / opening customers (the
    customers active at the previous month-end), exact to 10 decimals. -#}
with mrr as (

    select * from {{ ref('fct_mrr') }}

),

months as (

    select months.month
    from {{ ref('int_months') }} as months
    where
        months.month >= (select min(mrr.month) from mrr)
        and months.month <= (select max(mrr.month) from mrr)

),

by_month as (

    select
        month,
        sum(previous_mrr) as opening_mrr,
        sum(case when movement = 'new' then mrr_change else 0 end) as new_mrr,
        sum(case when movement = 'expansion' then mrr_change else 0 end) as expansion_mrr,
        sum(case when movement = 'contraction' then mrr_change else 0 end) as contraction_mrr,
        sum(case when movement = 'churn' then mrr_change else 0 end) as churn_mrr,
        sum(case when movement = 'reactivation' then mrr_change else 0 end) as reactivation_mrr,
        sum(mrr) as closing_mrr,
        sum(case when mrr > 0 then 1 else 0 end) as active_customers,
        sum(case when previous_mrr > 0 then 1 else 0 end) as opening_customers,
        sum(case when movement = 'new' then 1 else 0 end) as new_customers,
        sum(case when movement = 'churn' then 1 else 0 end) as churned_customers,
        sum(case when movement = 'reactivation' then 1 else 0 end) as reactivated_customers
    from mrr
    group by month

)

select
    months.month,
    cast(12 * coalesce(by_month.opening_mrr, 0) as {{ money_type() }}) as opening_arr,
    cast(12 * coalesce(by_month.new_mrr, 0) as {{ money_type() }}) as new_arr,
    cast(12 * coalesce(by_month.expansion_mrr, 0) as {{ money_type() }}) as expansion_arr,
    cast(12 * coalesce(by_month.contraction_mrr, 0) as {{ money_type() }}) as contraction_arr,
    cast(12 * coalesce(by_month.churn_mrr, 0) as {{ money_type() }}) as churn_arr,
    cast(12 * coalesce(by_month.reactivation_mrr, 0) as {{ money_type() }}) as reactivation_arr,
    cast(12 * coalesce(by_month.closing_mrr, 0) as {{ money_type() }}) as closing_arr,
    cast(coalesce(by_month.active_customers, 0) as integer) as active_customers,
    cast(coalesce(by_month.new_customers, 0) as integer) as new_customers,
    cast(coalesce(by_month.churned_customers, 0) as integer) as churned_customers,
    cast(coalesce(by_month.reactivated_customers, 0) as integer) as reactivated_customers,
    cast(coalesce(by_month.opening_customers, 0) as integer) as opening_customers,
    {{ decimal_divide('by_month.churned_customers', 'by_month.opening_customers') }} as logo_churn_rate
from months
left join by_month on months.month = by_month.month
