{#- fct_payment_failures: a recovered failure names its payment, a written-off one its credit,
    both with a resolved_date on or after the failure; retrying and failed ones name neither.
    Returns the rows that break it. -#}
select *
from {{ ref('fct_payment_failures') }}
where
    (outcome = 'recovered') <> (recovered_by_payment_id is not null)
    or (outcome = 'written_off') <> (written_off_by_credit_id is not null)
    or (outcome in ('recovered', 'written_off')) <> (resolved_date is not null)
    or resolved_date < payment_date
    or days_to_resolution < 0
