{#- on-run-start: refuse a reporting_currency that Ordway's exchange rates do not convert into,
    before anything is built (project policy, docs/revenue-rules.md "Reporting currency").

    Ordway's exchange_rate converts a document into the company's base currency, so a document
    in the base currency carries exactly 1. Evidence is read from the raw invoices,
    subscriptions and revenue schedule lines (every row loaded, whatever its status or load):

    - a document in the reporting currency with an exchange_rate other than 1 proves the
      reporting currency is not the base currency (refused);
    - when no document is in the reporting currency and exactly one currency has documents all
      at rate 1 (and at least one with a rate), that currency is the base (refused, naming it);
    - otherwise the setting is accepted: an empty tenant, a single-currency tenant in the
      reporting currency, a tenant whose documents are all in other currencies at rates other
      than 1, and pegged currencies quoted at exactly 1 next to the base currency.

    A company whose documents are all in one currency pegged 1:1 to its base currency (and none
    in the base) cannot be told apart from a company based in that currency; such a company
    sets var check_reporting_currency to false. -#}
{% macro check_reporting_currency() -%}
    {%- if not execute or not var('check_reporting_currency', true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reporting = var('reporting_currency', 'USD') -%}
    {%- set documents = [] -%}
    {%- for table_name, document_type, id_column in [
        ('invoices', 'invoice', 'id'),
        ('subscriptions', 'subscription', 'id'),
        ('revenue_schedules__schedule_lines', 'revenue schedule line', 'uid')
    ] -%}
        {%- set relation = source('ordway', table_name) -%}
        {%- set columns = ordway_columns(relation) -%}
        {%- if 'currency' in columns and 'exchange_rate' in columns -%}
            {%- set document_id = ordway_field(columns, id_column, 'varchar') -%}
            {%- do documents.append(
                "select '" ~ document_type ~ "' as document_type, " ~ document_id ~ " as document_id, "
                ~ ordway_field(columns, 'currency', 'varchar') ~ " as currency, "
                ~ ordway_field(columns, 'exchange_rate', money_type()) ~ " as exchange_rate "
                ~ "from " ~ relation ~ " as raw"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if documents | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set evidence_query -%}
        with documents as (
            {{ documents | join('\nunion all\n') }}
        )
        select
            currency,
            sum(case when exchange_rate = 1 then 1 else 0 end) as at_one,
            sum(case when exchange_rate <> 1 then 1 else 0 end) as not_at_one,
            min(
                case
                    when exchange_rate <> 1
                        then document_type || ' ' || coalesce(document_id, '?') || ' at '
                        || cast(exchange_rate as varchar)
                end
            ) as example
        from documents
        where currency is not null
        group by currency
        order by currency
    {%- endset -%}
    {%- set evidence = {} -%}
    {%- for row in run_query(evidence_query).rows -%}
        {%- do evidence.update({row[0]: {'at_one': row[1] | int, 'not_at_one': row[2] | int, 'example': row[3]}}) -%}
    {%- endfor -%}
    {%- set base_candidates = [] -%}
    {%- for currency, counts in evidence.items() -%}
        {%- if counts.at_one > 0 and counts.not_at_one == 0 -%}
            {%- do base_candidates.append(currency) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set fix = "; set REPORTING_CURRENCY (dbt var reporting_currency) to the company's base currency" -%}
    {%- set own = evidence.get(reporting) -%}
    {%- if own and own.not_at_one > 0 -%}
        {%- set others = base_candidates | reject('equalto', reporting) | list -%}
        {%- if others | length == 1 -%}
            {{ exceptions.raise_compiler_error(
                "reporting_currency " ~ reporting ~ " is not the company's base currency " ~ others[0]
                ~ ": Ordway's exchange_rate converts documents into " ~ others[0] ~ " (every " ~ others[0]
                ~ " document carries 1, but " ~ reporting ~ " documents carry other rates, e.g. "
                ~ own.example ~ "); set REPORTING_CURRENCY=" ~ others[0]
                ~ " (dbt var reporting_currency), or set var check_reporting_currency: false if "
                ~ reporting ~ " really is the base currency"
            ) }}
        {%- else -%}
            {{ exceptions.raise_compiler_error(
                "reporting_currency " ~ reporting ~ " is not the company's base currency"
                ~ (" (one of " ~ (others | join(', ')) ~ ")" if others else "")
                ~ ": Ordway's exchange_rate converts documents into the base currency, and "
                ~ reporting ~ " documents carry rates other than 1, e.g. " ~ own.example ~ fix
            ) }}
        {%- endif -%}
    {%- elif (not own or own.at_one == 0) and base_candidates | length == 1 -%}
        {{ exceptions.raise_compiler_error(
            "reporting_currency " ~ reporting ~ " is not the company's base currency " ~ base_candidates[0]
            ~ ": Ordway's exchange_rate converts documents into " ~ base_candidates[0] ~ " (every "
            ~ base_candidates[0] ~ " document carries 1 and no document is in " ~ reporting
            ~ " at rate 1); set REPORTING_CURRENCY=" ~ base_candidates[0]
            ~ " (dbt var reporting_currency), or set var check_reporting_currency: false if "
            ~ reporting ~ " really is the base currency"
        ) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
