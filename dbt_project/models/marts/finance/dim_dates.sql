{#- The calendar of int_months, a day at a time: the date dimension BI tools join to and the
    semantic layer's time spine (MetricFlow needs a daily one). -#}
with days as (

    {{ dbt.generate_series(31) }}

)

select
    cast({{ dbt.dateadd('day', 'cast(days.generated_number as integer) - 1', 'months.month') }} as date)
        as date_day,
    months.month,
    months.month_end,
    cast(extract(year from months.month) as integer) as calendar_year,
    cast(extract(quarter from months.month) as integer) as calendar_quarter,
    months.is_reported
from {{ ref('int_months') }} as months
inner join days on months.days_in_month >= days.generated_number
