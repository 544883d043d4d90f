{#- One row per customer: Ordway's own cmrr (gross) and discounted_cmrr (net) against the MRR we
    compute as of the as-of date (revenue-rules §5: recurring billing schedule lines covering
    that date, unit_price * quantity / months per billing period, credit lines subtracting), in
    the customer's currency (no FX: Ordway reports cmrr in customer currency). Rounded to cents
    once per customer. difference = computed - Ordway; the tie-out check fails on any non-zero
    difference. Meaningful when the as-of date is the extraction date (the default, today). -#}
with subscriptions as (

    select subscription_id
    from {{ ref('stg_ordway__subscriptions') }}
    where subscription_status not in {{ sql_string_list(var('mrr_excluded_subscription_statuses')) }}

),

schedules as (

    select
        billing_schedules.billing_schedule_id,
        billing_schedules.customer_id,
        {{ months_per_billing_period('subscription_lines.billing_period') }} as months_per_billing_period
    from {{ ref('stg_ordway__billing_schedules') }} as billing_schedules
    inner join subscriptions
        on billing_schedules.subscription_id = subscriptions.subscription_id
    inner join {{ ref('stg_ordway__subscription_lines') }} as subscription_lines
        on
            billing_schedules.subscription_id = subscription_lines.subscription_id
            and billing_schedules.subscription_line_id = subscription_lines.subscription_line_id
    where lower(billing_schedules.charge_type) = 'recurring'

),

line_mrr as (

    {%- set net = 'schedule_lines.unit_price * schedule_lines.quantity' %}
    {%- set gross = 'coalesce(schedule_lines.list_price, schedule_lines.unit_price) * schedule_lines.quantity' %}
    {%- set months = 'schedules.months_per_billing_period' %}

    select
        schedules.customer_id,
        {{ decimal_divide(net, months) }} as mrr,
        {{ decimal_divide(gross, months) }} as gross_mrr
    from {{ ref('stg_ordway__billing_schedule_lines') }} as schedule_lines
    inner join schedules on schedule_lines.billing_schedule_id = schedules.billing_schedule_id
    where
        schedule_lines.start_date <= {{ as_of_date() }}
        and coalesce(schedule_lines.end_date, {{ as_of_date() }}) >= {{ as_of_date() }}

),

computed as (

    select
        customer_id,
        sum(mrr) as mrr,
        sum(gross_mrr) as gross_mrr
    from line_mrr
    group by customer_id

),

compared as (

    select
        customers.customer_id,
        customers.currency,
        cast(coalesce(customers.cmrr_amount, 0) as {{ money_type() }}) as ordway_cmrr,
        cast(coalesce(customers.discounted_cmrr_amount, 0) as {{ money_type() }})
            as ordway_discounted_cmrr,
        cast(round(coalesce(computed.gross_mrr, 0), 2) as {{ money_type() }}) as computed_gross_mrr,
        cast(round(coalesce(computed.mrr, 0), 2) as {{ money_type() }}) as computed_mrr
    from {{ ref('stg_ordway__customers') }} as customers
    left join computed on customers.customer_id = computed.customer_id

)

select
    customer_id,
    currency,
    ordway_cmrr,
    ordway_discounted_cmrr,
    computed_gross_mrr,
    computed_mrr,
    cast(computed_mrr - ordway_discounted_cmrr as {{ money_type() }}) as difference,
    cast(computed_gross_mrr - ordway_cmrr as {{ money_type() }}) as gross_difference
from compared
