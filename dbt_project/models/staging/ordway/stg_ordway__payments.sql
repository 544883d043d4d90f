{%- set raw_relation = source('ordway', 'payments') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as payment_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'payment_date', 'date') }} as payment_date,
    {{ ordway_field(columns, 'status', 'varchar') }} as payment_status,
    {{ ordway_field(columns, 'payment_amount', money_type()) }} as payment_amount,
    {{ ordway_field(columns, 'fee_amount', money_type()) }} as fee_amount,
    {{ ordway_field(columns, 'applied_amount', money_type()) }} as applied_amount,
    {{ ordway_field(columns, 'unapplied_amount', money_type()) }} as unapplied_amount,
    {{ ordway_field(columns, 'refunded_amount', money_type()) }} as refunded_amount,
    {{ ordway_field(columns, 'payment_type', 'varchar') }} as payment_type,
    {{ ordway_field(columns, 'payment_method', 'varchar') }} as payment_method,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'failed_attempt', 'integer') }} as failed_attempt,
    {{ ordway_field(columns, 'retried_attempts', 'integer') }} as retried_attempts,
    {{ ordway_field(columns, 'failure_reason', 'varchar') }} as failure_reason,
    {{ ordway_field(columns, 'payment_run_id', 'varchar') }} as payment_run_id,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('payments') }} as raw
where {{ ordway_live_rows('payments') }}
