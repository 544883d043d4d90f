{#- The independent recomputation of revenue-rules §3 for every time-based revenue schedule and
    month of its service period, from total_revenue, start_date..end_date (inclusive) and
    the recognition method of the charge's revenue rule.
      Exact Days, Prorated:     round(A * d_m / N, 2), N = days in the period
      Straight-line, Prorated:  rate R = A / K where K = the term in months: its whole months
                                (anniversaries from start_date, clamped to month-end) plus
                                leftover days r as r / L of the anniversary month of length L;
                                full month round(R, 2), partial month round(R * d_m / dim, 2)
    (the same definition as ordway_sandbox/recognition.py; computed exactly as
    A * L / (K * L + r), no intermediate rounding).
    Both: the last month takes the residual so the schedule sums to A exactly.
    Event-based methods (Recognize on invoicing, Usage) are not recomputed. -#}
with rules as (

    select * from {{ ref('stg_ordway__revenue_rules') }}

),

schedules as (

    select
        revenue_schedules.revenue_schedule_id,
        revenue_schedules.customer_id,
        revenue_schedules.total_revenue,
        revenue_schedules.start_date,
        revenue_schedules.end_date,
        rules.recognition_method
    from {{ ref('stg_ordway__revenue_schedules') }} as revenue_schedules
    inner join {{ ref('stg_ordway__subscription_lines') }} as subscription_lines
        on
            revenue_schedules.subscription_id = subscription_lines.subscription_id
            and revenue_schedules.subscription_line_id = subscription_lines.subscription_line_id
    inner join rules on subscription_lines.revenue_rule_id = rules.revenue_rule_id
    where
        rules.recognition_method in ('Exact Days, Prorated', 'Straight-line, Prorated')
        and revenue_schedules.start_date <= revenue_schedules.end_date

),

calendar_terms as (

    select
        *,
        {{ date_diff('start_date', 'end_date', 'day') }} + 1 as term_days,
        cast({{ dbt.dateadd('day', 1, 'end_date') }} as date) as day_after_end
    from schedules

),

month_counts as (

    select
        *,
        {{ date_diff('start_date', 'day_after_end', 'month') }} as calendar_months
    from calendar_terms

),

whole_months as (

    select
        *,
        case
            when cast({{ dbt.dateadd('month', 'calendar_months', 'start_date') }} as date) > day_after_end
                then calendar_months - 1
            else calendar_months
        end as term_whole_months
    from month_counts

),

anchors as (

    select
        *,
        cast({{ dbt.dateadd('month', 'term_whole_months', 'start_date') }} as date) as anchor_date,
        cast({{ dbt.dateadd('month', 'term_whole_months + 1', 'start_date') }} as date) as next_anchor_date
    from whole_months

),

terms as (

    select
        *,
        {{ date_diff('anchor_date', 'day_after_end', 'day') }} as leftover_days,
        {{ date_diff('anchor_date', 'next_anchor_date', 'day') }} as leftover_month_days
    from anchors

),

months_served as (

    select
        schedules.revenue_schedule_id,
        schedules.customer_id,
        schedules.recognition_method,
        schedules.total_revenue,
        schedules.term_days,
        schedules.term_whole_months * schedules.leftover_month_days + schedules.leftover_days
            as term_month_units,
        schedules.leftover_month_days,
        months.month,
        months.days_in_month,
        case when schedules.start_date > months.month then schedules.start_date else months.month end
            as served_from,
        case when schedules.end_date < months.month_end then schedules.end_date else months.month_end end
            as served_to,
        months.month = {{ month_start('schedules.end_date') }} as is_last_month
    from terms as schedules
    inner join {{ ref('int_months') }} as months
        on
            {{ month_start('schedules.start_date') }} <= months.month
            and months.month <= {{ month_start('schedules.end_date') }}

),

spread as (

    select
        *,
        {{ date_diff('served_from', 'served_to', 'day') }} + 1 as days_served
    from months_served

),

rounded as (

    select
        *,
        case
            when recognition_method = 'Exact Days, Prorated'
                then {{ decimal_divide('total_revenue * days_served', 'term_days', 2) }}
            when days_served = days_in_month
                then {{ decimal_divide('total_revenue * leftover_month_days', 'term_month_units', 2) }}
            else {{ decimal_divide(
                'total_revenue * leftover_month_days * days_served',
                'term_month_units * days_in_month',
                2
            ) }}
        end as rounded_amount
    from spread

)

select
    revenue_schedule_id,
    month,
    customer_id,
    recognition_method,
    cast(days_served as integer) as days_served,
    cast(
        case
            when is_last_month
                then total_revenue - sum(case when is_last_month then 0 else rounded_amount end) over (
                        partition by revenue_schedule_id
                    )
            else rounded_amount
        end as {{ money_type() }}
    ) as recomputed_revenue
from rounded
