{#- Subscriptions (contracts) with their line count and charge term dates. -#}
with lines as (

    select
        subscription_id,
        count(*) as line_count,
        min(charge_start_date) as first_charge_start_date,
        max(charge_end_date) as last_charge_end_date
    from {{ ref('stg_ordway__subscription_lines') }}
    group by subscription_id

)

select
    subscriptions.subscription_id,
    subscriptions.customer_id,
    subscriptions.subscription_status,
    subscriptions.currency,
    subscriptions.exchange_rate,
    subscriptions.billing_start_date,
    subscriptions.service_start_date,
    subscriptions.contract_effective_date,
    subscriptions.cancellation_date,
    subscriptions.is_auto_renew,
    subscriptions.contract_term,
    subscriptions.renewal_term,
    subscriptions.version,
    subscriptions.cmrr_amount,
    subscriptions.discounted_cmrr_amount,
    subscriptions.tcv_amount,
    cast(coalesce(lines.line_count, 0) as integer) as line_count,
    lines.first_charge_start_date,
    lines.last_charge_end_date,
    cast(subscriptions.created_at as {{ timestamp_tz_type() }}) as created_at,
    cast(subscriptions.updated_at as {{ timestamp_tz_type() }}) as updated_at
from {{ ref('stg_ordway__subscriptions') }} as subscriptions
left join lines on subscriptions.subscription_id = lines.subscription_id
