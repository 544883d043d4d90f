{%- set raw_relation = source('ordway', 'revenue_schedules__schedule_lines') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as revenue_schedule_id
    from {{ ordway_from('revenue_schedules') }} as raw
    where {{ ordway_live_rows('revenue_schedules') }}

)

select
    parents.revenue_schedule_id,
    {{ ordway_field(columns, 'uid', 'varchar') }} as line_uid,
    {{ ordway_field(columns, 'financial_period', 'varchar') }} as financial_period,
    {{ parse_financial_period(ordway_field(columns, 'financial_period', 'varchar')) }} as revenue_month,
    {{ ordway_field(columns, 'posted', 'varchar') }} as posted_flag,
    {{ ordway_field(columns, 'posting_date', 'date') }} as posting_date,
    {{ ordway_field(columns, 'period_revenue', money_type()) }} as period_revenue,
    {{ ordway_field(columns, 'amount', money_type()) }} as revenue_amount,
    {{ ordway_field(columns, 'currency', 'varchar') }} as currency,
    {{ ordway_field(columns, 'exchange_rate', 'numeric(38, 10)') }} as exchange_rate,
    {{ ordway_field(columns, 'invoice_id', 'varchar') }} as invoice_id,
    raw._dlt_list_idx as list_index
from {{ ordway_from('revenue_schedules__schedule_lines') }} as raw
inner join parents on raw._dlt_parent_id = parents.parent_dlt_id
