{%- set raw_relation = source('ordway', 'debit_memos') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as debit_memo_id,
    {{ ordway_field(columns, 'customer_id', 'varchar') }} as customer_id,
    {{ ordway_field(columns, 'debit_date', 'date') }} as debit_date,
    {{ ordway_field(columns, 'status', 'varchar') }} as debit_memo_status,
    {{ ordway_field(columns, 'subtotal', money_type()) }} as subtotal_amount,
    {{ ordway_field(columns, 'debit_tax', money_type()) }} as tax_amount,
    {{ ordway_field(columns, 'debit_amount', money_type()) }} as debit_amount,
    {{ ordway_field(columns, 'paid_amount', money_type()) }} as paid_amount,
    {{ ordway_field(columns, 'balance', money_type()) }} as balance_amount,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'conversion_rate', 'numeric(38, 10)') }} as conversion_rate,
    {{ ordway_field(columns, 'reference_number', 'varchar') }} as reference_number,
    {{ ordway_field(columns, 'reversed_on', 'date') }} as reversed_date,
    {{ ordway_field(columns, 'created_date', none) }} as created_at,
    {{ ordway_field(columns, 'updated_date', none) }} as updated_at
from {{ ordway_from('debit_memos') }} as raw
where {{ ordway_live_rows('debit_memos') }}
