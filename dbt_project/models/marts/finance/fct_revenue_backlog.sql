{#- Scheduled revenue that is not recognized as
    of the as-of date: lines of months after the as-of month (remaining performance obligation
    on the schedules) and lines of earlier months that Ordway has not posted yet
    (is_unposted_past_period). -#}
select
    month,
    customer_id,
    currency,
    month <= {{ as_of_month() }} as is_unposted_past_period,
    cast(sum(revenue_amount) as {{ money_type() }}) as scheduled_revenue
from {{ ref('int_revenue_schedule_lines_dated') }}
where not is_recognized
group by month, customer_id, currency
