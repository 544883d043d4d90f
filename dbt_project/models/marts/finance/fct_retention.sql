{#- 12-month net and gross revenue retention on ARR, for each month of fct_arr_movements.
    Cohort = customers with ARR > 0 twelve months earlier; nrr = their ARR now / then,
    grr = sum(min(now, then)) / then; customers who churned count 0, new customers are outside
    the cohort. Ratios (0.9230769231 = 92.31%), rounded half away from zero to 10 decimals;
    null where the cohort is empty. -#}
with mrr as (

    select * from {{ ref('fct_mrr') }}

),

months as (

    select month from {{ ref('fct_arr_movements') }}

),

cohort as (

    select
        months.month,
        earlier.customer_id,
        earlier.arr as arr_then,
        coalesce(later.arr, 0) as arr_now
    from months
    inner join mrr as earlier
        on earlier.month = {{ dbt.dateadd('month', -12, 'months.month') }} and earlier.arr > 0
    left join mrr as later
        on earlier.customer_id = later.customer_id and months.month = later.month

),

by_month as (

    select
        month,
        sum(arr_then) as cohort_arr,
        sum(arr_now) as retained_arr,
        sum(case when arr_now < arr_then then arr_now else arr_then end) as kept_arr
    from cohort
    group by month

)

select
    months.month,
    cast(coalesce(by_month.cohort_arr, 0) as {{ money_type() }}) as cohort_arr,
    {{ decimal_divide('by_month.retained_arr', 'by_month.cohort_arr') }} as nrr,
    {{ decimal_divide('by_month.kept_arr', 'by_month.cohort_arr') }} as grr,
    cast(coalesce(by_month.retained_arr, 0) as {{ money_type() }}) as cohort_arr_now,
    cast(coalesce(by_month.kept_arr, 0) as {{ money_type() }}) as cohort_arr_kept
from months
left join by_month on months.month = by_month.month
