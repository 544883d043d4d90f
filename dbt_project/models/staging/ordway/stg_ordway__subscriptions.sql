{%- set raw_relation = source('ordway', 'subscriptions') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as subscription_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'status', 'varchar') }} as subscription_status,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'exchange_rate', 'numeric(38, 10)') }} as exchange_rate,
    {{ ordway_field(columns, 'billing_start_date', 'date') }} as billing_start_date,
    {{ ordway_field(columns, 'service_start_date', 'date') }} as service_start_date,
    {{ ordway_field(columns, 'contract_effective_date', 'date') }} as contract_effective_date,
    {{ ordway_field(columns, 'cancellation_date', 'date') }} as cancellation_date,
    {{ ordway_field(columns, 'auto_renew', 'boolean') }} as is_auto_renew,
    {{ ordway_field(columns, 'contract_term', 'varchar') }} as contract_term,
    {{ ordway_field(columns, 'renewal_term', 'varchar') }} as renewal_term,
    {{ ordway_field(columns, 'version', 'integer') }} as version,
    {{ ordway_field(columns, 'cmrr', money_type()) }} as cmrr_amount,
    {{ ordway_field(columns, 'discounted_cmrr', money_type()) }} as discounted_cmrr_amount,
    {{ ordway_field(columns, 'tcv', money_type()) }} as tcv_amount,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('subscriptions') }} as raw
where {{ ordway_live_rows('subscriptions') }}
