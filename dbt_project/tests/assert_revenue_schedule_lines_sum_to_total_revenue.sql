-- Dagster shows it as an asset check of int_revenue_schedule_lines_dated (dagster-dbt attaches a test that
-- reads several models to the one named in meta.dagster.ref).
{{ config(meta={'dagster': {'ref': {'name': 'int_revenue_schedule_lines_dated'}}}) }}
-- Each revenue schedule's posted lines sum to its total_revenue (a schedule that does not is
-- incomplete or double-loaded, and every revenue figure built on it is wrong).
with lines as (

    select
        revenue_schedule_id,
        sum(revenue_amount) as lines_total
    from {{ ref('int_revenue_schedule_lines_dated') }}
    group by revenue_schedule_id

)

select
    schedules.revenue_schedule_id,
    schedules.total_revenue,
    coalesce(lines.lines_total, 0) as lines_total
from {{ ref('stg_ordway__revenue_schedules') }} as schedules
left join lines on schedules.revenue_schedule_id = lines.revenue_schedule_id
where coalesce(lines.lines_total, 0) <> schedules.total_revenue
