-- Movement bridge per month (revenue-rules §5): opening + new + reactivation + expansion +
-- contraction + churn = closing, with contraction and churn <= 0 and the rest >= 0, and each
-- month's opening = the previous month's closing.
with bridge as (

    select
        *,
        lag(closing_arr) over (order by month) as previous_closing
    from {{ ref('fct_arr_movements') }}

)

select *
from bridge
where
    opening_arr + new_arr + reactivation_arr + expansion_arr + contraction_arr + churn_arr
    <> closing_arr
    or opening_arr <> coalesce(previous_closing, 0)
    or contraction_arr > 0
    or churn_arr > 0
    or new_arr < 0
    or expansion_arr < 0
    or reactivation_arr < 0
