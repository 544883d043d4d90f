{%- set raw_relation = source('ordway', 'customers') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'name', 'varchar') }} as customer_name,
    {{ ordway_field(columns, 'status', 'varchar') }} as customer_status,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'payment_terms', 'varchar') }} as payment_terms,
    {{ ordway_field(columns, 'billing_cycle_day', 'varchar') }} as billing_cycle_day,
    {{ ordway_field(columns, 'billing_contact_id', 'varchar') }} as billing_contact_id,
    {{ ordway_field(columns, 'tax_exempt', 'boolean') }} as is_tax_exempt,
    {{ ordway_field(columns, 'balance', money_type()) }} as open_balance_amount,
    {{ ordway_field(columns, 'cmrr', money_type()) }} as cmrr_amount,
    {{ ordway_field(columns, 'discounted_cmrr', money_type()) }} as discounted_cmrr_amount,
    {{ ordway_field(columns, 'custom_fields__segment', 'varchar') }} as segment,
    {{ ordway_field(columns, 'custom_fields__salesforce_id', 'varchar') }} as salesforce_id,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('customers') }} as raw
where {{ ordway_live_rows('customers') }}
