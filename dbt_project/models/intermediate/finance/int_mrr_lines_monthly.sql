{#- Line MRR, the one home of the rule (revenue-rules §5): a recurring billing schedule line
    counts in a month when it covers the month's snapshot date (month-end, or the as-of date in
    the as-of month); MRR = unit_price * quantity / months per billing period (gross:
    list_price). Credit lines have negative quantity and subtract. Subscriptions in var
    mrr_excluded_subscription_statuses (Draft) never count. Computed in the subscription's
    currency (document_mrr, read by the tie-out with Ordway's cmrr) and in reporting currency at
    the subscription's exchange rate (mrr, the constant rate, read by fct_mrr).
    Arithmetic order (no DECIMAL(38) overflow for 15-digit amounts): unit_price * quantity is
    rounded to 10 decimals, multiplied by the rate (an exact DECIMAL(38, 20) below 1e18), then
    divided by the months with decimal_divide (which keeps 12 decimals of the dividend). -#}
with subscriptions as (

    select * from {{ ref('stg_ordway__subscriptions') }}
    where subscription_status not in {{ sql_string_list(var('mrr_excluded_subscription_statuses')) }}

),

schedules as (

    select
        billing_schedules.billing_schedule_id,
        billing_schedules.customer_id,
        billing_schedules.subscription_id,
        billing_schedules.subscription_line_id,
        subscription_lines.billing_period,
        subscriptions.currency,
        {{ months_per_billing_period('subscription_lines.billing_period') }} as months_per_billing_period,
        {{ reporting_rate('subscriptions.exchange_rate', 'subscriptions.currency') }} as exchange_rate
    from {{ ref('stg_ordway__billing_schedules') }} as billing_schedules
    inner join subscriptions
        on billing_schedules.subscription_id = subscriptions.subscription_id
    inner join {{ ref('stg_ordway__subscription_lines') }} as subscription_lines
        on
            billing_schedules.subscription_id = subscription_lines.subscription_id
            and billing_schedules.subscription_line_id = subscription_lines.subscription_line_id
    where lower(billing_schedules.charge_type) = 'recurring'

),

lines as (

    select
        schedules.billing_schedule_id,
        schedule_lines.list_index,
        schedules.customer_id,
        schedules.subscription_id,
        schedules.subscription_line_id,
        schedules.currency,
        schedules.months_per_billing_period,
        schedules.exchange_rate,
        schedule_lines.start_date,
        schedule_lines.end_date,
        cast(schedule_lines.unit_price * schedule_lines.quantity as {{ money_type() }}) as net_amount_per_period,
        cast(
            coalesce(schedule_lines.list_price, schedule_lines.unit_price) * schedule_lines.quantity
            as {{ money_type() }}
        ) as gross_amount_per_period
    from {{ ref('stg_ordway__billing_schedule_lines') }} as schedule_lines
    inner join schedules on schedule_lines.billing_schedule_id = schedules.billing_schedule_id

),

months as (

    select * from {{ ref('int_months') }}
    where is_reported

)

select
    months.month,
    lines.customer_id,
    lines.billing_schedule_id,
    lines.list_index,
    lines.subscription_id,
    lines.subscription_line_id,
    lines.currency,
    lines.months_per_billing_period,
    lines.exchange_rate,
    {{ decimal_divide('lines.net_amount_per_period', 'lines.months_per_billing_period') }} as document_mrr,
    {{ decimal_divide('lines.gross_amount_per_period', 'lines.months_per_billing_period') }} as document_gross_mrr,
    {{ decimal_divide('lines.net_amount_per_period * lines.exchange_rate', 'lines.months_per_billing_period') }}
        as mrr,
    {{ decimal_divide('lines.gross_amount_per_period * lines.exchange_rate', 'lines.months_per_billing_period') }}
        as gross_mrr
from lines
inner join months
    on
        lines.start_date <= months.snapshot_date
        and months.snapshot_date <= coalesce(lines.end_date, months.snapshot_date)
