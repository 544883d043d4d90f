{%- set raw_relation = source('ordway', 'billing_schedules__schedule_lines') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as billing_schedule_id
    from {{ ordway_from('billing_schedules') }} as raw
    where {{ ordway_live_rows('billing_schedules') }}

)

select
    parents.billing_schedule_id,
    {{ ordway_field(columns, 'id', 'bigint') }} as billing_schedule_line_id,
    {{ ordway_field(columns, 'uid', 'varchar') }} as line_uid,
    {{ ordway_field(columns, 'line_type', 'varchar') }} as line_type,
    {{ ordway_field(columns, 'charge_ready_date', 'date') }} as charge_ready_date,
    {{ ordway_field(columns, 'start_date', 'date') }} as start_date,
    {{ ordway_field(columns, 'end_date', 'date') }} as end_date,
    {{ ordway_field(columns, 'unit_price', money_type()) }} as unit_price,
    {{ ordway_field(columns, 'list_price', money_type()) }} as list_price,
    {{ ordway_field(columns, 'quantity', 'numeric(38, 10)') }} as quantity,
    {{ ordway_field(columns, 'discount', 'numeric(38, 10)') }} as discount_percent,
    {{ ordway_field(columns, 'amount', money_type()) }} as billed_amount,
    {{ ordway_field(columns, 'invoiced', 'varchar') }} as invoiced_flag,
    raw._dlt_list_idx as list_index
from {{ ordway_from('billing_schedules__schedule_lines') }} as raw
inner join parents on raw._dlt_parent_id = parents.parent_dlt_id
