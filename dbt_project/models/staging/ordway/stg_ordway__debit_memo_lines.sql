{%- set raw_relation = source('ordway', 'debit_memos__debit_lines') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as debit_memo_id
    from {{ ordway_from('debit_memos') }} as raw
    where {{ ordway_live_rows('debit_memos') }}

)

select
    parents.debit_memo_id,
    {{ ordway_field(columns, 'line_no', 'varchar') }} as line_no,
    {{ ordway_field(columns, 'product_id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'description', 'varchar') }} as description,
    {{ ordway_field(columns, 'unit_price', money_type()) }} as unit_price,
    {{ ordway_field(columns, 'quantity', 'numeric(38, 10)') }} as quantity,
    {{ ordway_field(columns, 'effective_price', money_type()) }} as line_amount,
    {{ ordway_field(columns, 'line_tax', money_type()) }} as tax_amount,
    raw._dlt_list_idx as list_index
from {{ ordway_from('debit_memos__debit_lines') }} as raw
inner join parents on raw._dlt_parent_id = parents.parent_dlt_id
