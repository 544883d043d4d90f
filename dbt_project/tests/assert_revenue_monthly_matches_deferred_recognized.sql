-- Dagster shows it as an asset check of fct_revenue_monthly (dagster-dbt attaches a test that
-- reads several models to the one named in meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'fct_revenue_monthly'}}}) }}
-- The revenue mart and the deferred revenue roll-forward agree on recognized revenue per month,
-- customer and currency.
with revenue as (

    select
        month,
        customer_id,
        currency,
        recognized_revenue
    from {{ ref('fct_revenue_monthly') }}

),

deferred as (

    select
        month,
        customer_id,
        currency,
        recognized_revenue
    from {{ ref('fct_deferred_revenue') }}
    where recognized_revenue <> 0

)

select
    coalesce(revenue.month, deferred.month) as month,
    coalesce(revenue.customer_id, deferred.customer_id) as customer_id,
    revenue.recognized_revenue as mart_revenue,
    deferred.recognized_revenue as deferred_revenue
from revenue
full outer join deferred
    on
        revenue.month = deferred.month
        and revenue.customer_id = deferred.customer_id
        and revenue.currency = deferred.currency
where coalesce(revenue.recognized_revenue, 0) <> coalesce(deferred.recognized_revenue, 0)
