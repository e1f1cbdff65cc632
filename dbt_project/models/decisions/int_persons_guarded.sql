{#- The guardrails of every person as of int_as_of_dated (docs/decisions.md). suppression_reason is the first that applies
    in this order: do_not_contact (CRM opt-out or seeds/do_not_contact), unsubscribed, hard_bounced, spam_reported,
    existing_customer, open_opportunity, active_sequence, legal_hold (seeds/legal_hold). Beside it: the frequency
    cap (var frequency_cap_touches touches in frequency_cap_window_days across emitters) and the last touch, reply
    and meeting the stage map needs. Grain: person_id. -#}
with

persons as (
    select * from {{ ref('dim_person') }}
),

bridge as (
    select * from {{ ref('bridge_person_identifier') }}
),

person_contacts as (
    select * from {{ ref('int_contacts_resolved') }}
),

companies as (
    select * from {{ ref('stg_hubspot__companies') }}
),

deal_parties as (
    select * from {{ ref('int_deals_resolved') }}
),

esp_events as (
    select * from {{ ref('stg_esp__events') }}
),

mailings_by_person as (
    select * from {{ ref('int_mailings_resolved') }}
),

sequence_states as (
    select * from {{ ref('stg_sales_engagement__sequence_states') }}
),

engagements as (
    select * from {{ ref('int_engagements_resolved') }}
),

accounts as (
    select * from {{ ref('dim_account') }}
),

do_not_contact as (
    select * from {{ ref('do_not_contact') }}
),

legal_hold as (
    select * from {{ ref('legal_hold') }}
),

as_of as (
    select * from {{ ref('int_as_of_dated') }}
),

person_emails as (
    select person_id, identifier_value as email, split_part(identifier_value, '@', 2) as email_domain
    from bridge
    where identifier_type = 'email'
),

person_prospects as (
    select person_id, identifier_value as prospect_id
    from bridge
    where identifier_type = 'prospect_id'
),

esp_by_person as (
    select person_emails.person_id, esp_events.*
    from esp_events
    inner join person_emails on person_emails.email = {{ normalize_email('esp_events.recipient_email') }}
    cross join as_of
    where esp_events.event_at <= as_of.as_of
),

calls_by_person as (
    select person_id, occurred_at as call_at, call_direction from engagements where engagement_type = 'call'
),

meetings_by_person as (
    select person_id, created_at, occurred_at as meeting_at from engagements where engagement_type = 'meeting'
),

touches as (
    -- docs/kpis.md: an outbound email delivered (ESP delivered, a mailing's deliveredAt) or a logged outbound call
    select person_id, event_at as touch_at, 'email' as channel, false as is_sales_touch
    from esp_by_person where event_type = 'delivered'
    union all
    select person_id, delivered_at, 'email', true from mailings_by_person where delivered_at is not null
    union all
    select person_id, call_at, 'call', true from calls_by_person where call_direction = 'OUTBOUND'
),

touch_summary as (
    select
        touches.person_id,
        max(touches.touch_at) as last_touch_at,
        max(case when touches.is_sales_touch then touches.touch_at end) as last_sales_touch_at,
        max(case when touches.touch_at = latest.latest_at then touches.channel end) as last_touch_channel,
        sum(case when touches.touch_at > {{ dbt.dateadd('day', -1 * var('frequency_cap_window_days'), 'as_of.as_of') }}
                 then 1 else 0 end) as touches_in_cap_window
    from touches
    inner join (select person_id, max(touch_at) as latest_at from touches group by person_id) as latest
        on latest.person_id = touches.person_id
    cross join as_of
    where touches.touch_at <= as_of.as_of
    group by touches.person_id
),

open_deals as (
    -- deals not closed, tied to one of the person's contacts or to their account's CRM company
    select distinct person_id, deal_id
    from deal_parties
    where party_object = 'contacts' and person_id is not null
        and deal_stage not in ('closedwon', 'closedlost')
    union
    select distinct persons.person_id, deal_parties.deal_id
    from deal_parties
    inner join persons on persons.account_id = deal_parties.account_id
    where deal_parties.party_object = 'companies' and deal_parties.deal_stage not in ('closedwon', 'closedlost')
),

customer_accounts as (
    select accounts.account_id
    from accounts
    inner join companies on companies.company_id = accounts.crm_company_id
    where companies.lifecycle_stage = 'customer'
    union
    select account_id
    from deal_parties
    where party_object = 'companies' and account_id is not null and deal_stage = 'closedwon'
),

flags as (
    select
        persons.person_id,
        max(case when person_contacts.is_email_opted_out then 1 else 0 end) = 1
            or exists (select 1 from person_emails inner join do_not_contact
                           on (do_not_contact.kind = 'email' and do_not_contact.identifier = person_emails.email)
                           or (do_not_contact.kind = 'domain' and do_not_contact.identifier = person_emails.email_domain)
                       where person_emails.person_id = persons.person_id) as is_do_not_contact,
        exists (select 1 from esp_by_person where esp_by_person.person_id = persons.person_id
                    and esp_by_person.event_type in ('unsubscribe', 'group_unsubscribe'))
            or exists (select 1 from mailings_by_person where mailings_by_person.person_id = persons.person_id
                           and mailings_by_person.unsubscribed_at is not null) as is_unsubscribed,
        exists (select 1 from esp_by_person where esp_by_person.person_id = persons.person_id
                    and esp_by_person.event_type = 'bounce' and esp_by_person.bounce_type = 'bounce'
                    and {{ normalize_email('esp_by_person.recipient_email') }} = persons.best_email)
            or exists (select 1 from mailings_by_person where mailings_by_person.person_id = persons.person_id
                           and mailings_by_person.bounced_at is not null) as is_hard_bounced,
        exists (select 1 from esp_by_person where esp_by_person.person_id = persons.person_id
                    and esp_by_person.event_type = 'spamreport')
            or exists (select 1 from mailings_by_person where mailings_by_person.person_id = persons.person_id
                           and mailings_by_person.marked_as_spam_at is not null) as is_spam_reported,
        exists (select 1 from customer_accounts where customer_accounts.account_id = persons.account_id)
            as is_existing_customer,
        exists (select 1 from open_deals where open_deals.person_id = persons.person_id) as has_open_opportunity,
        exists (select 1 from sequence_states
                    inner join person_prospects
                        on person_prospects.prospect_id = cast(sequence_states.prospect_id as {{ dbt.type_string() }})
                    where person_prospects.person_id = persons.person_id and sequence_states.state = 'active')
            as is_in_active_sequence,
        exists (select 1 from person_emails inner join legal_hold
                    on (legal_hold.kind = 'email' and legal_hold.identifier = person_emails.email)
                    or (legal_hold.kind = 'domain' and legal_hold.identifier = person_emails.email_domain)
                where person_emails.person_id = persons.person_id) as is_legal_hold
    from persons
    left join person_contacts on person_contacts.person_id = persons.person_id
    group by persons.person_id, persons.account_id, persons.best_email
),

reasoned as (
    select
        flags.*,
        case
            when flags.is_do_not_contact then 'do_not_contact'
            when flags.is_unsubscribed then 'unsubscribed'
            when flags.is_hard_bounced then 'hard_bounced'
            when flags.is_spam_reported then 'spam_reported'
            when flags.is_existing_customer then 'existing_customer'
            when flags.has_open_opportunity then 'open_opportunity'
            when flags.is_in_active_sequence then 'active_sequence'
            when flags.is_legal_hold then 'legal_hold'
        end as suppression_reason,
        touch_summary.last_touch_at,
        touch_summary.last_sales_touch_at,
        touch_summary.last_touch_channel,
        coalesce(touch_summary.touches_in_cap_window, 0) as touches_in_cap_window,
        coalesce(touch_summary.touches_in_cap_window, 0) >= {{ var('frequency_cap_touches') }} as is_frequency_capped,
        (select max(replied_at) from mailings_by_person
         where mailings_by_person.person_id = flags.person_id) as last_reply_at,
        (select max(created_at) from meetings_by_person
         where meetings_by_person.person_id = flags.person_id) as last_meeting_booked_at,
        (select max(meeting_at) from meetings_by_person
         where meetings_by_person.person_id = flags.person_id) as last_meeting_at
    from flags
    left join touch_summary on touch_summary.person_id = flags.person_id
),

final as (
    -- the reasons that stop all contact (the others — customer, open deal, active sequence — hand the person to
    -- whoever already works them): routing and the stage map read this flag, not lists of their own
    select
        reasoned.*,
        coalesce(reasoned.suppression_reason in ('do_not_contact', 'unsubscribed', 'hard_bounced', 'spam_reported',
                                                 'legal_hold'), false) as is_contact_blocked
    from reasoned
)

select * from final
