{#- Revenue schedule lines, dated by their financial period and attributed to the
    schedule's customer. A line is recognized when Ordway has posted it and its period is on
    or before the as-of month; every other line is scheduled revenue (backlog), including a
    line of a past period that is not posted yet. Reporting amounts convert each line at its
    own exchange_rate (historical rate); null when a foreign-currency line has no rate. -#}
with lines as (

    select * from {{ ref('stg_ordway__revenue_schedule_lines') }}

),

schedules as (

    select * from {{ ref('stg_ordway__revenue_schedules') }}

)

select
    lines.revenue_schedule_id,
    lines.list_index,
    lines.line_uid,
    schedules.customer_id,
    schedules.subscription_id,
    schedules.subscription_line_id,
    lines.currency,
    lines.revenue_month as month,
    lines.revenue_amount,
    {{ reporting_rate('lines.exchange_rate', 'lines.currency') }} as exchange_rate,
    {{ to_reporting_currency('lines.revenue_amount', 'lines.exchange_rate', 'lines.currency') }}
        as revenue_amount_reporting,
    {{ revenue_line_is_posted('lines.posted_flag') }} as is_posted,
    {{ revenue_line_is_recognized('lines.posted_flag', 'lines.revenue_month') }} as is_recognized
from lines
inner join schedules on lines.revenue_schedule_id = schedules.revenue_schedule_id
