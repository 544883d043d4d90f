{#- Every revenue schedule and month in either the posted schedule lines or the
    independent recomputation (revenue-rules §3): posted vs recomputed and the difference.
    Ordway posts catch-ups for closed periods into the open period, so differences are
    reported here (and by a warn-level test), never forced to zero. Schedules with an
    event-based method (Recognize on invoicing, Usage) have is_recomputed = false and null
    recomputed figures. -#}
with posted as (

    select
        revenue_schedule_id,
        month,
        min(customer_id) as customer_id,
        min(currency) as currency,
        sum(revenue_amount) as posted_revenue
    from {{ ref('int_revenue_schedule_lines_dated') }}
    group by revenue_schedule_id, month

),

recomputed as (

    select * from {{ ref('int_revenue_schedules_recomputed') }}

),

recomputed_schedules as (

    select distinct revenue_schedule_id from recomputed

),

joined as (

    select
        coalesce(posted.revenue_schedule_id, recomputed.revenue_schedule_id) as revenue_schedule_id,
        coalesce(posted.month, recomputed.month) as month,
        coalesce(posted.customer_id, recomputed.customer_id) as customer_id,
        posted.currency,
        recomputed.recognition_method,
        coalesce(posted.posted_revenue, 0) as posted_revenue,
        recomputed.recomputed_revenue
    from posted
    full outer join recomputed
        on posted.revenue_schedule_id = recomputed.revenue_schedule_id and posted.month = recomputed.month

)

select
    joined.revenue_schedule_id,
    joined.month,
    joined.customer_id,
    joined.currency,
    recomputed_schedules.revenue_schedule_id is not null as is_recomputed,
    cast(joined.posted_revenue as {{ money_type() }}) as posted_revenue,
    cast(
        case
            when recomputed_schedules.revenue_schedule_id is not null
                then coalesce(joined.recomputed_revenue, 0)
        end as {{ money_type() }}
    ) as recomputed_revenue,
    cast(
        case
            when recomputed_schedules.revenue_schedule_id is not null
                then joined.posted_revenue - coalesce(joined.recomputed_revenue, 0)
        end as {{ money_type() }}
    ) as difference
from joined
left join recomputed_schedules on joined.revenue_schedule_id = recomputed_schedules.revenue_schedule_id
