{%- set raw_relation = source('ordway', 'revenue_rules') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as revenue_rule_id,
    {{ ordway_field(columns, 'name', 'varchar') }} as revenue_rule_name,
    {{ ordway_field(columns, 'recognition_method', 'varchar') }} as recognition_method,
    {{ ordway_field(columns, 'recognition_schedule_period', 'varchar') }} as recognition_schedule_period,
    {{ ordway_field(columns, 'posting_day', 'varchar') }} as posting_day,
    {{ ordway_field(columns, 'posting_method', 'varchar') }} as posting_method,
    {{ ordway_field(columns, 'status', 'varchar') }} as revenue_rule_status,
    {{ ordway_field(columns, 'recognition_term', 'varchar') }} as recognition_term
from {{ ordway_from('revenue_rules') }} as raw
where {{ ordway_live_rows('revenue_rules') }}
