{#- One row per account (grain: account_id, one per company domain): the CRM company, the firmographics from the
    waterfall of seeds/enrichment_precedence (per field the best-ranked source whose observation is recent enough
    at as_of, with the source that won), and how many people work there now. Domains come from CRM companies,
    enrichment and the people's work-email, CRM-company and Segment-group domains; free-mail domains never. -#}
with

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

enrichment_companies as (
    select * from {{ ref('stg_enrichment__companies') }}
),

person_accounts as (
    select * from {{ ref('int_person_accounts_dated') }}
),

precedence as (
    select * from {{ ref('enrichment_precedence') }}
),

field_max_age as (
    -- a provider the seed does not rank is held to the field's strictest freshness among the listed providers
    select field, min(max_age_days) as max_age_days
    from precedence
    where source <> 'crm'
    group by field
),

segment_bands as (
    select * from {{ ref('segment_bands') }}
),

freemail_domains as (
    select * from {{ ref('freemail_domains') }}
),

crm_companies as (
    -- a domain held by several CRM companies: the oldest one is the account's company
    select
        {{ normalize_domain('company_domain') }} as account_domain,
        company_id,
        company_name,
        employee_count,
        industry,
        country,
        owner_id,
        updated_at,
        row_number() over (partition by {{ normalize_domain('company_domain') }}
                           order by created_at nulls last, company_id nulls last) as company_rank
    from companies
    where not is_archived and company_domain is not null
),

observations as (
    -- long format: one value per (domain, field, source, observed_at)
    select account_domain, 'company_name' as field, 'crm' as source, company_name as field_value,
           updated_at as observed_at
    from crm_companies where company_rank = 1
    union all
    select account_domain, 'employee_count', 'crm', cast(employee_count as {{ dbt.type_string() }}), updated_at
    from crm_companies where company_rank = 1
    union all
    select account_domain, 'industry', 'crm', industry, updated_at from crm_companies where company_rank = 1
    union all
    select account_domain, 'country', 'crm', country, updated_at from crm_companies where company_rank = 1
    union all
    select {{ normalize_domain('company_domain') }}, 'company_name', provider, company_name, observed_at
    from enrichment_companies
    union all
    select {{ normalize_domain('company_domain') }}, 'employee_count', provider, cast(employee_count as {{ dbt.type_string() }}),
           observed_at
    from enrichment_companies
    union all
    select {{ normalize_domain('company_domain') }}, 'industry', provider, industry, observed_at
    from enrichment_companies
    union all
    select {{ normalize_domain('company_domain') }}, 'country', provider, country, observed_at
    from enrichment_companies
    union all
    select {{ normalize_domain('company_domain') }}, 'funding_stage', provider, funding_stage, observed_at
    from enrichment_companies
),

reference_time as (
    select coalesce(cast({{ "'" ~ var('as_of') ~ "'" if var('as_of') else 'null' }} as timestamp),
                    max(observed_at)) as as_of
    from observations
),

winners as (
    select
        observations.account_domain,
        observations.field,
        observations.field_value,
        observations.source,
        observations.observed_at,
        row_number() over (
            partition by observations.account_domain, observations.field
            -- a provider the seed does not rank still counts, after every ranked source (docs/landing.md)
            order by coalesce(precedence.precedence, {{ var('unranked_provider_precedence') }}),
                     observations.observed_at desc, observations.source, observations.field_value
        ) as winner_rank
    from observations
    left join precedence
        on precedence.field = observations.field and precedence.source = observations.source
    left join field_max_age on field_max_age.field = observations.field
    cross join reference_time
    where observations.field_value is not null
        and (precedence.source is not null or observations.source <> 'crm')
        and observations.observed_at <= reference_time.as_of
        and (precedence.source is not null and precedence.max_age_days is null
             or observations.observed_at >= {{ dbt.dateadd('day', '-1 * coalesce(precedence.max_age_days, '
                                                          ~ 'field_max_age.max_age_days, '
                                                          ~ var('unranked_provider_max_age_days') ~ ')',
                                                          'reference_time.as_of') }})
),

domains as (
    select account_domain from crm_companies where company_rank = 1
    union
    select {{ normalize_domain('company_domain') }} from enrichment_companies
    union
    select account_domain from person_accounts
),

headcounts as (
    select account_domain, count(*) filter (where is_current) as current_person_count,
           count(*) as person_count_ever
    from person_accounts
    group by account_domain
),

accounts as (
    select
        {{ stable_id('acc_', 'domains.account_domain') }} as account_id,
        domains.account_domain,
        crm_companies.company_id as crm_company_id,
        crm_companies.owner_id,
        max(winners.field_value) filter (where winners.field = 'company_name') as account_name,
        max(winners.source) filter (where winners.field = 'company_name') as account_name_source,
        cast(max(winners.field_value) filter (where winners.field = 'employee_count') as integer) as employee_count,
        max(winners.source) filter (where winners.field = 'employee_count') as employee_count_source,
        max(winners.field_value) filter (where winners.field = 'industry') as industry,
        max(winners.source) filter (where winners.field = 'industry') as industry_source,
        max(winners.field_value) filter (where winners.field = 'country') as country,
        max(winners.source) filter (where winners.field = 'country') as country_source,
        max(winners.field_value) filter (where winners.field = 'funding_stage') as funding_stage,
        max(winners.source) filter (where winners.field = 'funding_stage') as funding_stage_source,
        coalesce(max(headcounts.current_person_count), 0) as current_person_count,
        coalesce(max(headcounts.person_count_ever), 0) as person_count_ever
    from domains
    left join freemail_domains on freemail_domains.domain = domains.account_domain
    left join crm_companies on crm_companies.account_domain = domains.account_domain and crm_companies.company_rank = 1
    left join winners on winners.account_domain = domains.account_domain and winners.winner_rank = 1
    left join headcounts on headcounts.account_domain = domains.account_domain
    where freemail_domains.domain is null and domains.account_domain is not null
    group by domains.account_domain, crm_companies.company_id, crm_companies.owner_id
),

final as (
    select
        accounts.*,
        coalesce(segment_bands.segment, 'unknown') as segment
    from accounts
    left join segment_bands
        on accounts.employee_count >= segment_bands.min_employees
        and (segment_bands.max_employees is null or accounts.employee_count <= segment_bands.max_employees)
)

select * from final
