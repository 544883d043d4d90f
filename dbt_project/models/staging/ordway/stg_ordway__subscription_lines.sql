{%- set raw_relation = source('ordway', 'subscriptions__plans') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as subscription_id
    from {{ ordway_from('subscriptions') }} as raw
    where {{ ordway_live_rows('subscriptions') }}

)

select
    parents.subscription_id,
    {{ ordway_field(columns, 'subscription_line_id', 'varchar') }} as subscription_line_id,
    {{ ordway_field(columns, 'product_id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'plan_id', 'varchar') }} as plan_id,
    {{ ordway_field(columns, 'charge_id', 'varchar') }} as charge_id,
    {{ ordway_field(columns, 'charge_name', 'varchar') }} as charge_name,
    {{ ordway_field(columns, 'charge_type', 'varchar') }} as charge_type,
    {{ ordway_field(columns, 'billing_period', 'varchar') }} as billing_period,
    {{ ordway_field(columns, 'list_price', money_type()) }} as list_price,
    {{ ordway_field(columns, 'discount', 'numeric(38, 10)') }} as discount_percent,
    {{ ordway_field(columns, 'quantity', 'numeric(38, 10)') }} as quantity,
    {{ ordway_field(columns, 'effective_price', money_type()) }} as effective_price,
    {{ ordway_field(columns, 'charge_start_date', 'date') }} as charge_start_date,
    {{ ordway_field(columns, 'charge_end_date', 'date') }} as charge_end_date,
    {{ ordway_field(columns, 'billing_schedule_id', 'varchar') }} as billing_schedule_id,
    {{ ordway_field(columns, 'revenue_schedule_id', 'varchar') }} as revenue_schedule_id,
    {{ ordway_field(columns, 'revenue_rule_id', 'varchar') }} as revenue_rule_id,
    raw._dlt_list_idx as list_index
from {{ ordway_from('subscriptions__plans') }} as raw
inner join parents on raw._dlt_parent_id = parents.parent_dlt_id
