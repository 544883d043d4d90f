{#- The calendar: one row per month from var spine_start_date to spine_horizon_years after the
    as-of date. snapshot_date is the month-end, or the as-of date within the as-of month. -#}
with spine as (

    {{ dbt.date_spine(
        'month',
        "cast('" ~ var('spine_start_date') ~ "' as date)",
        dbt.dateadd('year', var('spine_horizon_years'), as_of_month())
    ) }}

),

months as (

    select
        cast(date_month as date) as month,
        {{ month_end('date_month') }} as month_end
    from spine

)

select
    month,
    month_end,
    case
        when month_end > {{ as_of_date() }} then {{ as_of_date() }}
        else month_end
    end as snapshot_date,
    cast(extract(day from month_end) as integer) as days_in_month,
    month <= {{ as_of_month() }} as is_reported
from months
