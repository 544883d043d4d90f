{%- set raw_relation = source('ordway', 'billing_schedules') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as billing_schedule_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'subscription_id', 'varchar') }} as subscription_id,
    {{ ordway_field(columns, 'charge_id', 'varchar') }} as subscription_line_id,
    {{ ordway_field(columns, 'product_id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'charge_type', 'varchar') }} as charge_type,
    {{ ordway_field(columns, 'charge_timing', 'varchar') }} as charge_timing,
    {{ ordway_field(columns, 'start_date', 'date') }} as start_date,
    {{ ordway_field(columns, 'end_date', 'date') }} as end_date,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'key_metrics__monthly_recurring_revenue', money_type()) }} as reported_mrr_amount,
    {{ ordway_field(columns, 'key_metrics__total_contract_revenue', money_type()) }} as total_contract_amount,
    {{ ordway_field(columns, 'key_metrics__amount_invoiced', money_type()) }} as invoiced_amount,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('billing_schedules') }} as raw
where {{ ordway_live_rows('billing_schedules') }}
