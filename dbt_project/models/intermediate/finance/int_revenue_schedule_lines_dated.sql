{#- One row per revenue schedule line, dated by its financial period and attributed to the
    schedule's customer. Lines of months up to the as-of month are recognized; later ones are
    scheduled (backlog). -#}
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
    coalesce(
        lines.exchange_rate,
        case when lines.currency = {{ reporting_currency() }} then 1 end
    ) as exchange_rate,
    cast(
        lines.revenue_amount * coalesce(
            lines.exchange_rate,
            case when lines.currency = {{ reporting_currency() }} then 1 end
        ) as {{ money_type() }}
    ) as revenue_amount_reporting,
    lines.revenue_month <= {{ as_of_month() }} as is_recognized
from lines
inner join schedules on lines.revenue_schedule_id = schedules.revenue_schedule_id
