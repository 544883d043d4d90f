{#- Revenue recognized from the posted revenue
    schedule lines, up to the as-of month. The reporting total is null (and a test fails) when
    a line in another currency has no exchange rate, never short. -#}
select
    month,
    customer_id,
    currency,
    cast(sum(revenue_amount) as {{ money_type() }}) as recognized_revenue,
    cast({{ sum_or_null('revenue_amount_reporting') }} as {{ money_type() }}) as recognized_revenue_reporting
from {{ ref('int_revenue_schedule_lines_dated') }}
where is_recognized
group by month, customer_id, currency
