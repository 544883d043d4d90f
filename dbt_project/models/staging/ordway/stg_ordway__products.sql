{%- set raw_relation = source('ordway', 'products') -%}
{%- set columns = ordway_columns(raw_relation) -%}

select
    {{ ordway_field(columns, 'id', 'varchar') }} as product_id,
    {{ ordway_field(columns, 'name', 'varchar') }} as product_name,
    {{ ordway_field(columns, 'sku', 'varchar') }} as sku,
    {{ ordway_field(columns, 'status', 'varchar') }} as product_status,
    {{ ordway_field(columns, 'taxable', 'boolean') }} as is_taxable,
    {{ ordway_field(columns, 'revenue_rule_id', 'varchar') }} as revenue_rule_id
from {{ ordway_from('products') }} as raw
where {{ ordway_live_rows('products') }}
