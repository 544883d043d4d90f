{{ config(severity='warn') }}
-- Reports (warns, never fails) every schedule-month where the posted revenue differs from the
-- independent recomputation: catch-ups after mid-term changes show up here, per schedule.
select
    revenue_schedule_id,
    month,
    customer_id,
    posted_revenue,
    recomputed_revenue,
    difference
from {{ ref('fct_revenue_reconciliation') }}
where is_recomputed and difference <> 0
