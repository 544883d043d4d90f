{#- One row per future month (after the as-of month), customer and currency: revenue scheduled
    but not yet recognized (remaining performance obligation from the schedules). -#}
select
    month,
    customer_id,
    currency,
    cast(sum(revenue_amount) as {{ money_type() }}) as scheduled_revenue
from {{ ref('int_revenue_schedule_lines_dated') }}
where not is_recognized
group by month, customer_id, currency
