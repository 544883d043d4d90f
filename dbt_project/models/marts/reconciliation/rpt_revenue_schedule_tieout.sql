{#- Ordway's recognized_revenue against the sum of the schedule's
    posted lines (posted = 'Yes') whose financial period is on or before the as-of month, in the
    schedule's currency. difference = posted lines - Ordway; the tie-out check fails on any
    non-zero difference. Meaningful when the as-of date is the extraction date (the default). -#}
with posted_lines as (

    select
        revenue_schedule_id,
        min(currency) as currency,
        sum(revenue_amount) as posted_lines_revenue
    from {{ ref('stg_ordway__revenue_schedule_lines') }}
    where {{ revenue_line_is_recognized('posted_flag', 'revenue_month') }}
    group by revenue_schedule_id

),

schedules as (

    select
        revenue_schedules.revenue_schedule_id,
        revenue_schedules.customer_id,
        revenue_schedules.reported_recognized_revenue,
        customers.currency as customer_currency
    from {{ ref('stg_ordway__revenue_schedules') }} as revenue_schedules
    left join {{ ref('stg_ordway__customers') }} as customers
        on revenue_schedules.customer_id = customers.customer_id

)

select
    schedules.revenue_schedule_id,
    schedules.customer_id,
    coalesce(posted_lines.currency, schedules.customer_currency) as currency,
    cast(coalesce(schedules.reported_recognized_revenue, 0) as {{ money_type() }})
        as ordway_recognized_revenue,
    cast(coalesce(posted_lines.posted_lines_revenue, 0) as {{ money_type() }})
        as posted_lines_revenue,
    cast(
        coalesce(posted_lines.posted_lines_revenue, 0)
        - coalesce(schedules.reported_recognized_revenue, 0)
        as {{ money_type() }}
    ) as difference
from schedules
left join posted_lines on schedules.revenue_schedule_id = posted_lines.revenue_schedule_id
