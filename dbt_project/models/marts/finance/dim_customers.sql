{#- Customers with their current MRR/ARR (the latest fct_mrr month) and first MRR month, for
    drill-down. The audit timestamps are cast to one type, so a tenant without customers has the
    same columns as any other. -#}
with latest_mrr as (

    select
        customer_id,
        mrr,
        arr
    from {{ ref('fct_mrr') }}
    where month = (select max(month) from {{ ref('fct_mrr') }})

),

first_mrr as (

    select
        customer_id,
        min(month) as first_mrr_month
    from {{ ref('fct_mrr') }}
    group by customer_id

)

select
    customers.customer_id,
    customers.customer_name,
    customers.customer_status,
    customers.currency,
    customers.payment_terms,
    customers.billing_cycle_day,
    customers.is_tax_exempt,
    customers.segment,
    customers.salesforce_id,
    customers.open_balance_amount,
    customers.cmrr_amount,
    customers.discounted_cmrr_amount,
    first_mrr.first_mrr_month,
    cast(coalesce(latest_mrr.mrr, 0) as {{ money_type() }}) as current_mrr,
    cast(coalesce(latest_mrr.arr, 0) as {{ money_type() }}) as current_arr,
    cast(customers.created_at as {{ timestamp_tz_type() }}) as created_at,
    cast(customers.updated_at as {{ timestamp_tz_type() }}) as updated_at
from {{ ref('stg_ordway__customers') }} as customers
left join latest_mrr on customers.customer_id = latest_mrr.customer_id
left join first_mrr on customers.customer_id = first_mrr.customer_id
