{%- set raw_relation = source('ordway', 'refunds') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as refund_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'refund_date', 'date') }} as refund_date,
    {{ ordway_field(columns, 'refund_status', 'varchar') }} as refund_status,
    {{ ordway_field(columns, 'refund_type', 'varchar') }} as refund_type,
    {{ ordway_field(columns, 'refund_amount', money_type()) }} as refund_amount,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'conversion_rate', 'numeric(38, 10)') }} as conversion_rate,
    {{ ordway_field(columns, 'payment_id', 'varchar') }} as payment_id,
    {{ ordway_field(columns, 'invoice_id', 'varchar') }} as invoice_id,
    {{ ordway_field(columns, 'credit_id', 'varchar') }} as credit_id,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('refunds') }} as raw
where {{ ordway_live_rows('refunds') }}
