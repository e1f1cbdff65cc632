{#- Every identifier once (grain: identifier_id), over all the sources that carry it (int_identifiers_collected is
    one row per identifier and source): its type and value, the sources, first and last seen, how many records
    carry it and its address flags. Resolution anchors on it and the bridge describes each identifier from it. -#}
with

identifiers as (
    select * from {{ ref('int_identifiers_collected') }}
),

final as (
    select
        identifier_id,
        identifier_type,
        identifier_value,
        {{ sorted_string_agg('source') }} as sources,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        cast(sum(sighting_count) as bigint) as sighting_count,
        bool_or(is_role_address) as is_role_address,
        bool_or(is_junk_address) as is_junk_address,
        bool_or(is_freemail) as is_freemail
    from identifiers
    group by identifier_id, identifier_type, identifier_value
)

select * from final
