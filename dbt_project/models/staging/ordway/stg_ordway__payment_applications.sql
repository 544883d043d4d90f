{%- set raw_relation = source('ordway', 'payments__invoices') -%}
{%- set columns = ordway_columns(raw_relation) -%}

with parents as (

    select
        raw._dlt_id as parent_dlt_id,
        cast(raw.id as varchar) as payment_id
    from {{ ordway_from('payments') }} as raw
    where {{ ordway_live_rows('payments') }}

),

applications as (

    select
        parents.payment_id,
        {{ ordway_field(columns, 'id', 'varchar') }} as document_id,
        {{ ordway_field(columns, 'amount_applied', money_type()) }} as applied_amount,
        {{ ordway_field(columns, 'created_date', 'varchar') }} as created_date_text,
        raw._dlt_list_idx as list_index
    from {{ ordway_from('payments__invoices') }} as raw
    inner join parents on raw._dlt_parent_id = parents.parent_dlt_id

)

{#- created_date is date-only on the wire (ordway-api.md §11.11) and loaded as text: its first
    ten characters are the day the amount was applied. -#}
select
    payment_id,
    document_id,
    applied_amount,
    {{ dbt.safe_cast('substr(created_date_text, 1, 10)', 'date') }} as applied_date,
    list_index
from applications
