{%- set raw_relation = source('ordway', 'invoices') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as invoice_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'invoice_date', 'date') }} as invoice_date,
    {{ ordway_field(columns, 'due_date', 'date') }} as due_date,
    {{ ordway_field(columns, 'start_date', 'date') }} as start_date,
    {{ ordway_field(columns, 'end_date', 'date') }} as end_date,
    {{ ordway_field(columns, 'subtotal', money_type()) }} as subtotal_amount,
    {{ ordway_field(columns, 'invoice_tax', money_type()) }} as tax_amount,
    {{ ordway_field(columns, 'invoice_amount', money_type()) }} as invoice_amount,
    {{ ordway_field(columns, 'paid_amount', money_type()) }} as paid_amount,
    {{ ordway_field(columns, 'balance', money_type()) }} as balance_amount,
    {{ ordway_field(columns, 'status', 'varchar') }} as invoice_status,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'exchange_rate', 'numeric(38, 10)') }} as exchange_rate,
    {{ ordway_field(columns, 'payment_terms', 'varchar') }} as payment_terms,
    {{ ordway_field(columns, 'reversed_on', 'date') }} as reversed_date,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('invoices') }} as raw
where {{ ordway_live_rows('invoices') }}
