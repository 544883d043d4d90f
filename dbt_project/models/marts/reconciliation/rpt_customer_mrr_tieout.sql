{#- Ordway's own cmrr (gross) and discounted_cmrr (net) against our MRR as of the as-of date:
    the line MRR of int_mrr_lines_monthly (the one home of the rule) in the as-of month, whose
    snapshot is the as-of date, in the subscriptions' currency (no FX: Ordway reports cmrr in
    customer currency). Rounded to cents once per customer. difference = computed - Ordway; the
    tie-out check fails on any non-zero difference. Meaningful when the as-of date is the
    extraction date (the default, today). -#}
with computed as (

    select
        customer_id,
        sum(document_mrr) as mrr,
        sum(document_gross_mrr) as gross_mrr
    from {{ ref('int_mrr_lines_monthly') }}
    where month = {{ as_of_month() }}
    group by customer_id

),

compared as (

    select
        customers.customer_id,
        customers.currency,
        cast(coalesce(customers.cmrr_amount, 0) as {{ money_type() }}) as ordway_cmrr,
        cast(coalesce(customers.discounted_cmrr_amount, 0) as {{ money_type() }})
            as ordway_discounted_cmrr,
        cast(round(coalesce(computed.gross_mrr, 0), 2) as {{ money_type() }}) as computed_gross_mrr,
        cast(round(coalesce(computed.mrr, 0), 2) as {{ money_type() }}) as computed_mrr
    from {{ ref('stg_ordway__customers') }} as customers
    left join computed on customers.customer_id = computed.customer_id

)

select
    customer_id,
    currency,
    ordway_cmrr,
    ordway_discounted_cmrr,
    computed_gross_mrr,
    computed_mrr,
    cast(computed_mrr - ordway_discounted_cmrr as {{ money_type() }}) as difference,
    cast(computed_gross_mrr - ordway_cmrr as {{ money_type() }}) as gross_difference
from compared
