{#- Merges and splits between runs (docs/identity.md): one row per (run, previous person_id, new person_id) whose
    identifiers moved, with how many moved and what kind of change it was. merge: the receiving person existed
    before the run; split: the previous person still has identifiers after it; renumbered: everything moved to a
    new id (the anchor changed). -#}
with

assignments as (
    select * from {{ ref('int_identity_assignments_recorded') }}
),

intervals as (
    select
        identifier_id,
        person_id,
        recorded_at as valid_from,
        lead(recorded_at) over (partition by identifier_id order by recorded_at nulls last) as valid_to
    from assignments
),

moves as (
    select
        recorded_at,
        invocation_id,
        previous_person_id,
        person_id,
        count(*) as identifiers_moved
    from assignments
    where previous_person_id is not null
    group by recorded_at, invocation_id, previous_person_id, person_id
),

classified as (
    select
        moves.*,
        exists (
            select 1 from intervals
            where intervals.person_id = moves.person_id and intervals.valid_from < moves.recorded_at
                and (intervals.valid_to is null or intervals.valid_to >= moves.recorded_at)
        ) as receiving_person_existed,
        exists (
            select 1 from intervals
            where intervals.person_id = moves.previous_person_id and intervals.valid_from <= moves.recorded_at
                and (intervals.valid_to is null or intervals.valid_to > moves.recorded_at)
        ) as previous_person_remains
    from moves
),

final as (
    select
        recorded_at,
        invocation_id,
        previous_person_id,
        person_id,
        identifiers_moved,
        case
            when receiving_person_existed and previous_person_remains then 'split_and_merge'
            when receiving_person_existed then 'merge'
            when previous_person_remains then 'split'
            else 'renumbered'
        end as change_type
    from classified
)

select * from final
