-- Every fct_mrr row satisfies the definition of its movement class (revenue-rules §5) and the
-- customer's rows form a continuous month spine.
with rows_with_previous as (

    select
        *,
        lag(month) over (partition by customer_id order by month) as previous_month,
        lag(mrr) over (partition by customer_id order by month) as lagged_mrr
    from {{ ref('fct_mrr') }}

)

select *
from rows_with_previous
where
    (previous_month is not null and month <> {{ dbt.dateadd('month', 1, 'previous_month') }})
    or previous_mrr <> coalesce(lagged_mrr, 0)
    or mrr_change <> mrr - previous_mrr
    or arr <> 12 * mrr
    or (movement in ('new', 'reactivation') and not (previous_mrr = 0 and mrr > 0))
    or (movement = 'churn' and not (previous_mrr > 0 and mrr = 0))
    or (movement = 'expansion' and not (previous_mrr > 0 and mrr > previous_mrr))
    or (movement = 'contraction' and not (mrr > 0 and mrr < previous_mrr))
    or (movement = 'unchanged' and mrr <> previous_mrr)
