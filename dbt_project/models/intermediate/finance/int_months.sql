{#- The calendar: months from var spine_start_date through the later of
    (a) spine_horizon_years after the as-of month and (b) the last month any billing or revenue
    schedule or schedule line reaches, so a contract scheduled further out than the horizon is
    covered (invoices and MRR only use months up to the as-of month). snapshot_date is the
    month-end, or the as-of date within the as-of month. The series is generated up to year
    9999 and cut at the last month. -#}
{%- set spine_start = "cast('" ~ var('spine_start_date') ~ "' as date)" -%}
{%- set series_months = 12 * (10000 - (var('spine_start_date')[:4] | int)) -%}

with last_dates as (

    select cast({{ dbt.dateadd('year', var('spine_horizon_years'), as_of_month()) }} as date) as last_date
    union all
    select max(end_date) from {{ ref('stg_ordway__revenue_schedules') }}
    union all
    select max(revenue_month) from {{ ref('stg_ordway__revenue_schedule_lines') }}
    union all
    select max(end_date) from {{ ref('stg_ordway__billing_schedules') }}
    union all
    select max(end_date) from {{ ref('stg_ordway__billing_schedule_lines') }}

),

bounds as (

    select {{ date_diff(spine_start, 'max(last_date)', 'month') }} + 1 as month_count
    from last_dates

),

numbers as (

    {{ dbt.generate_series(series_months) }}

),

months as (

    select
        cast({{ dbt.dateadd('month', 'cast(numbers.generated_number as integer) - 1', spine_start) }} as date)
            as month
    from numbers
    inner join bounds on numbers.generated_number <= bounds.month_count

),

calendar as (

    select
        month,
        {{ month_end('month') }} as month_end
    from months

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
from calendar
