{#-
    Who is suppressed, and why?

    One row per person the stage map holds back from new outreach (stage 'suppressed', or any person with a
    suppression reason), with who they are (dim_person), the reason, what it blocks and what is still at
    risk. Each row also carries its reason's head count and share, so the same result answers "how many per
    reason" (read the first row of each reason, or `select distinct suppression_reason, reason_persons,
    reason_share`) and "who exactly" (the rows).

    How to read it:
    - suppression_reason is the first that applies (docs/decisions.md): do_not_contact, unsubscribed, hard_bounced,
      spam_reported, existing_customer, open_opportunity, active_sequence, legal_hold. The first four (and
      legal_hold) put the person at stage 'suppressed': no contact at all. existing_customer,
      open_opportunity and active_sequence keep the person's own stage (customer, opportunity, outreach, ...)
      and only stop NEW marketing/sales outreach: the owner gets context instead, or the running sequence
      goes on.
    - blocked_decision: the decision the stage map refused ('contact: unsubscribed', 'send: frequency cap
      reached', 'email: sending domain ... paused'); open_risk: what is still wrong for the person (paused
      sending domain, unknown fit fields, fallback owner).
    - A 'suppressed' person without a reason shows as '(no reason recorded)': that is a data problem to chase.
    - Within a reason, the highest lead scores come first: suppressed people who still look valuable are
      the ones to check (a wrong opt-out match, a bounce from an old address).
-#}

{#- Parameters: tweak here, or override on the command line with --vars '{suppression_reasons: [unsubscribed]}' -#}
{#- Only these reasons, e.g. ['unsubscribed', 'hard_bounced']; none: every reason. -#}
{%- set suppression_reasons = var('suppression_reasons', none) -%}
{#- At most N people per reason in the detail (the highest lead scores); none: everyone. The head counts
    stay the full counts. -#}
{%- set max_rows_per_reason = var('max_rows_per_reason', none) -%}

with

stage_map as (
    select * from {{ ref('mart_stage_map') }}
),

persons as (
    select * from {{ ref('dim_person') }}
),

suppressed as (
    select
        coalesce(stage_map.suppression_reason, '(no reason recorded)') as suppression_reason,
        stage_map.person_id,
        stage_map.stage,
        stage_map.owner_id,
        stage_map.lead_score,
        stage_map.grade,
        stage_map.blocked_decision,
        stage_map.open_risk,
        stage_map.last_action,
        stage_map.last_action_at,
        stage_map.next_action,
        stage_map.next_action_date
    from stage_map
    where (stage_map.stage = 'suppressed' or stage_map.suppression_reason is not null)
    {%- if suppression_reasons is not none %}
        and stage_map.suppression_reason in (
            {%- for reason in suppression_reasons %}'{{ reason }}'{{ ", " if not loop.last }}{% endfor -%}
        )
    {%- endif %}
),

counted as (
    select
        suppressed.*,
        count(*) over (partition by suppressed.suppression_reason) as reason_persons,
        count(*) over (partition by suppressed.suppression_reason) / count(*) over () as reason_share,
        row_number() over (partition by suppressed.suppression_reason
                           order by suppressed.lead_score desc nulls last, suppressed.person_id) as rank_in_reason
    from suppressed
),

final as (
    select
        counted.suppression_reason,
        counted.reason_persons,
        round(counted.reason_share, 4) as reason_share,
        counted.rank_in_reason,
        counted.person_id,
        persons.first_name,
        persons.last_name,
        persons.best_email,
        persons.job_title,
        persons.account_domain,
        counted.stage,
        counted.owner_id,
        round(counted.lead_score, 1) as lead_score,
        counted.grade,
        counted.blocked_decision,
        counted.open_risk,
        counted.last_action,
        counted.last_action_at,
        counted.next_action,
        counted.next_action_date
    from counted
    left join persons on persons.person_id = counted.person_id
    {%- if max_rows_per_reason is not none %}
    where counted.rank_in_reason <= {{ max_rows_per_reason }}
    {%- endif %}
)

select * from final
order by reason_persons desc, suppression_reason, rank_in_reason
