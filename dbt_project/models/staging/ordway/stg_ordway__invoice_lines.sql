{%- set raw_relation = source('ordway', 'invoices__line_items') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as invoice_id
    from {{ ordway_from('invoices') }} as raw
    where {{ ordway_live_rows('invoices') }}

)

select
    parents.invoice_id,
    {{ ordway_field(columns, 'line_no', 'varchar') }} as line_no,
    {{ ordway_field(columns, 'subscription_id', 'varchar') }} as subscription_id,
    {{ ordway_field(columns, 'subscription_line_id', 'varchar') }} as subscription_line_id,
    {{ ordway_field(columns, 'charge_id', 'varchar') }} as charge_id,
    {{ ordway_field(columns, 'product_id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'plan_id', 'varchar') }} as plan_id,
    {{ ordway_field(columns, 'charge_type', 'varchar') }} as charge_type,
    {{ ordway_field(columns, 'description', 'varchar') }} as description,
    {{ ordway_field(columns, 'start_date', 'date') }} as start_date,
    {{ ordway_field(columns, 'end_date', 'date') }} as end_date,
    {{ ordway_field(columns, 'unit_price', money_type()) }} as unit_price,
    {{ ordway_field(columns, 'list_price', money_type()) }} as list_price,
    {{ ordway_field(columns, 'quantity', 'numeric(38, 10)') }} as quantity,
    {{ ordway_field(columns, 'discount', 'numeric(38, 10)') }} as discount_percent,
    {{ ordway_field(columns, 'effective_price', money_type()) }} as billed_amount,
    {{ ordway_field(columns, 'line_tax', money_type()) }} as tax_amount,
    {{ ordway_field(columns, 'taxable', 'boolean') }} as is_taxable,
    raw._dlt_list_idx as list_index
from {{ ordway_from('invoices__line_items') }} as raw
inner join parents on raw._dlt_parent_id = parents.parent_dlt_id
