{#- The identifiers a source record lists beside its own id, one row per listed element (a value listed twice is two
    rows): every id in a CRM contact's hs_merged_object_ids (trimmed; blanks are no ids) and every address of a
    prospect's email list (normalized; what is no address is left out). The identifiers and the edges both read
    them from here. -#}
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

prospects as (
    select * from {{ ref('stg_sales_engagement__prospects') }}
),

merged_ids as (
    select contact_id, created_at, updated_at, {{ explode_split('merged_contact_ids', ';') }} as merged_id
    from contacts
    where merged_contact_ids is not null
),

prospect_emails as (
    select prospect_id, updated_at, {{ explode_json_array('emails') }} as email
    from prospects
),

listed as (
    select 'crm' as source, contact_id as record_id, created_at, updated_at,
           'crm_contact_id' as identifier_type, trim(merged_id) as identifier_value
    from merged_ids
    union all
    select 'sales_engagement', cast(prospect_id as {{ dbt.type_string() }}), updated_at, updated_at,
           'email', {{ normalize_email('email') }}
    from prospect_emails
),

final as (
    select * from listed
    where nullif(identifier_value, '') is not null
)

select * from final
