{%- set raw_relation = source('ordway', 'credits') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as credit_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'credit_date', 'date') }} as credit_date,
    {{ ordway_field(columns, 'status', 'varchar') }} as credit_status,
    {{ ordway_field(columns, 'credit_type', 'varchar') }} as credit_type,
    {{ ordway_field(columns, 'credit_amount', money_type()) }} as credit_amount,
    {{ ordway_field(columns, 'applied_amount', money_type()) }} as applied_amount,
    {{ ordway_field(columns, 'unapplied_amount', money_type()) }} as unapplied_amount,
    {{ ordway_field(columns, 'subtotal', money_type()) }} as subtotal_amount,
    {{ ordway_field(columns, 'credit_tax', money_type()) }} as tax_amount,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'conversion_rate', 'numeric(38, 10)') }} as conversion_rate,
    {{ ordway_field(columns, 'reversed_on', 'date') }} as reversed_date,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('credits') }} as raw
where {{ ordway_live_rows('credits') }}
