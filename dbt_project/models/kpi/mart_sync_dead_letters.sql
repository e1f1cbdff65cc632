{#- The sync's open dead letters (docs/sync.md, grain: crm_object, sync_key): what the CRM refused or what failed
    after retries and has not succeeded since, newest failure first in the dashboard. A view: a sync's dead letters
    are in it the moment the sync has written them. -#}
with

dead_letters as (
    select * from {{ ref('stg_crm_sync__dead_letters') }}
),

final as (
    select
        crm_object,
        sync_key,
        error,
        attempts,
        first_failed_at,
        last_failed_at,
        payload
    from dead_letters
    where resolved_at is null
)

select * from final
