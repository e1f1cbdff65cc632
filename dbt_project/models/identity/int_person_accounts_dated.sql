{#- Where each person worked, and since when (docs/identity.md): every company domain seen for a person (CRM company
    association, Segment group call, work-email domain), dated by the first time it was seen for them. A person's
    events belong to the account valid when they happened; the current account is the latest. One row per
    (person_id, account_domain). -#}
with

resolved as (
    select * from {{ ref('int_identifiers_resolved') }}
),

traits as (
    select * from {{ ref('int_identifier_traits_collected') }}
    where trait = 'company_domain'
),

freemail_domains as (
    select * from {{ ref('freemail_domains') }}
),

seen as (
    select
        resolved.person_id,
        traits.trait_value as account_domain,
        min(traits.first_seen_at) as valid_from,
        max(traits.last_seen_at) as last_seen_at
    from resolved
    inner join traits on traits.identifier_id = resolved.identifier_id
    left join freemail_domains on freemail_domains.domain = traits.trait_value
    where freemail_domains.domain is null
    group by resolved.person_id, traits.trait_value
),

final as (
    select
        person_id,
        {{ stable_id('acc_', 'account_domain') }} as account_id,
        account_domain,
        valid_from,
        lead(valid_from) over (partition by person_id order by valid_from nulls last, last_seen_at nulls last, account_domain nulls last) as valid_to,
        last_seen_at,
        -- before the first domain is seen, the person is taken to be at that first account
        row_number() over (partition by person_id order by valid_from nulls last, last_seen_at nulls last, account_domain nulls last) = 1 as is_first,
        row_number() over (partition by person_id order by valid_from desc, last_seen_at desc, account_domain desc) = 1
            as is_current
    from seen
)

select * from final
