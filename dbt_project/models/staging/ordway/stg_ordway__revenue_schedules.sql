{%- set raw_relation = source('ordway', 'revenue_schedules') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as revenue_schedule_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'source_transaction', 'varchar') }} as source_transaction,
    case
        when {{ ordway_field(columns, 'source_transaction', 'varchar') }} like 'Subscription:%'
            then trim({{ dbt.split_part(ordway_field(columns, 'source_transaction', 'varchar'), "':'", 2) }})
    end as subscription_id,
    {{ ordway_field(columns, 'product_id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'plan_id', 'varchar') }} as plan_id,
    {{ ordway_field(columns, 'charge_id', 'varchar') }} as subscription_line_id,
    {{ ordway_field(columns, 'charge_name', 'varchar') }} as charge_name,
    {{ ordway_field(columns, 'charge_type', 'varchar') }} as charge_type,
    {{ ordway_field(columns, 'charge_timing', 'varchar') }} as charge_timing,
    {{ ordway_field(columns, 'total_revenue', money_type()) }} as total_revenue,
    {{ ordway_field(columns, 'recognized_revenue', money_type()) }} as reported_recognized_revenue,
    {{ ordway_field(columns, 'unrecognized_revenue', money_type()) }} as reported_unrecognized_revenue,
    {{ ordway_field(columns, 'start_date', 'date') }} as start_date,
    {{ ordway_field(columns, 'end_date', 'date') }} as end_date,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('revenue_schedules') }} as raw
where {{ ordway_live_rows('revenue_schedules') }}
