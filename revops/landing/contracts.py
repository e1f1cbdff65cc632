"""The landing contract of every source (docs/landing.md): one rule for each field that any model reads, casts or joins on.

A record that passes its contract can never make a dbt model or test fail (the build never fails on a record's
value): every cast a staging model makes is tried here with the same DuckDB cast, every timestamp is held to a
range, every string to a length and a type. `tests/test_landing_contracts.py` proves the link in both directions
— each `json_text('record', '$.x')` that a staging model casts, each column it tests not-null or against a list
of values, has a rule here.

The rules compile to one SQL expression per source (`error_sql`) that DuckDB evaluates over whole batches: the
record is parsed once (`json_extract` with the list of paths), each rule is a CASE over its fragment, and the
errors of a record are joined into one reason — `field 'timestamp': out of range ...; field 'email': required`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

# Timestamps a model reads lie between this day and the landing time + 1 day (docs/landing.md). "Scheduled" CRM times
# (a deal's expected close date, a meeting's or task's planned time) are dates in the future by nature: they may
# reach SCHEDULED_HORIZON_DAYS past the landing time instead (10 years: a multi-year contract's close date).
EARLIEST = "2000-01-01"
EVENT_HORIZON_DAYS = 1
SCHEDULED_HORIZON_DAYS = 3653

EMAIL_MAX = 254  # RFC 5321 path limit
ID_MAX = 255
TEXT_MAX = 1000  # names, titles, companies, domains: longer is a broken export, not a name
EMPLOYEES_MAX = 10_000_000  # the largest employer has ~2.1 M people; staging casts to a 32-bit integer


class Kind(str, Enum):
    STRING = "string"          # a JSON string
    EMAIL = "email"            # a JSON string of at most 254 characters
    INTEGER = "integer"        # a JSON integer within a 64-bit signed range
    ID = "id"                  # a JSON string or integer (owner ids come either way)
    UNIX_SECONDS = "unix_s"    # a JSON integer: seconds since 1970, in the timestamp range
    TIME = "time"              # a JSON string DuckDB casts to timestamptz, in the timestamp range
    ENUM = "enum"              # a JSON string from `values`
    OBJECT = "object"          # a JSON object
    STRING_LIST = "string_list"  # a JSON array of strings (each at most max_len)
    ANY = "any"                # any JSON (kept as a fragment; no cast)
    # CRM properties: HubSpot sends every property value as a string; "" is an empty value
    PROP_STRING = "prop_string"
    PROP_INTEGER = "prop_integer"  # "" or a string that casts to a 32-bit integer, within min/max
    PROP_NUMBER = "prop_number"    # "" or a string that casts to a finite double
    PROP_TIME = "prop_time"        # "" or a string that casts to timestamptz, in the range


@dataclass(frozen=True)
class Rule:
    path: str                      # JSON path below the record: 'timestamp', 'properties.createdate'
    kind: Kind
    required: bool = False
    max_len: int | None = None
    values: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    scheduled: bool = False        # a planned time (may lie in the future): SCHEDULED_HORIZON_DAYS
    nonempty: bool = False         # an id: "" identifies nothing

    @property
    def json_path(self) -> str:
        return "$." + ".".join(f'"{p}"' if not p.replace("_", "").isalnum() else p for p in self.path.split("."))


@dataclass(frozen=True)
class Contract:
    source: str                    # the raw table
    rules: tuple[Rule, ...]
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one of these paths present (Segment anonymousId | userId)
    key: tuple[str, ...] = ()      # the delivery key: these fields' values joined with '|' (times normalized)
    versioned: bool = False        # the source versions its records: a conflicting copy lands as a new version
    notes: dict[str, str] = field(default_factory=dict)

    def rule(self, path: str) -> Rule | None:
        return next((r for r in self.rules if r.path == path), None)


def _s(path: str, **kw) -> Rule:
    return Rule(path, Kind.STRING, max_len=kw.pop("max_len", TEXT_MAX), **kw)


def _id(path: str, **kw) -> Rule:
    return Rule(path, Kind.STRING, max_len=ID_MAX, nonempty=True, **kw)


def _email(path: str, **kw) -> Rule:
    return Rule(path, Kind.EMAIL, max_len=EMAIL_MAX, **kw)


def _time(path: str, **kw) -> Rule:
    return Rule(path, Kind.TIME, **kw)


ESP_EVENT_TYPES = ("processed", "delivered", "deferred", "open", "click", "bounce", "dropped", "spamreport",
                   "unsubscribe", "group_unsubscribe", "group_resubscribe")
SEGMENT_CALL_TYPES = ("identify", "track", "page", "group")
SEQUENCE_STATES = ("active", "paused", "finished")
# Outreach's mailing states (its API reference), and `clicked`, which exports derived from tracking carry
MAILING_STATES = ("bounced", "clicked", "delivered", "delivering", "drafted", "failed", "opened", "placeholder",
                  "queued", "replied", "scheduled")
SIGNAL_TYPES = ("funding_round", "exec_hire", "job_posting")

FILE_CONTRACTS: dict[str, Contract] = {c.source: c for c in [
    Contract("esp_events", key=("sg_event_id",), rules=(
        _id("sg_event_id", required=True),
        _email("email", required=True),
        Rule("timestamp", Kind.UNIX_SECONDS, required=True),
        Rule("event", Kind.ENUM, required=True, values=ESP_EVENT_TYPES),
        _id("sg_message_id"),
        _id("campaign_id"),
        _s("sending_domain"),
        _s("type"), _s("reason", max_len=10_000), _s("status"),
        Rule("category", Kind.ANY),
    )),
    Contract("segment_events", key=("messageId",), one_of=(("anonymousId", "userId"),), rules=(
        _id("messageId", required=True),
        Rule("type", Kind.ENUM, required=True, values=SEGMENT_CALL_TYPES),
        _time("timestamp", required=True),
        _time("receivedAt"), _time("sentAt"), _time("originalTimestamp"),
        _id("anonymousId"), _id("userId"), _id("groupId"),
        _s("event"),
        Rule("traits", Kind.OBJECT), Rule("properties", Kind.OBJECT), Rule("context", Kind.OBJECT),
        _email("traits.email"), _email("properties.email"),
        _s("properties.path", max_len=10_000),
        _s("traits.domain"), _s("traits.website"), _s("traits.firstName"), _s("traits.lastName"),
    )),
    Contract("se_prospects", key=("id", "updatedAt"), versioned=True, rules=(
        Rule("id", Kind.INTEGER, required=True),
        Rule("emails", Kind.STRING_LIST, required=True, max_len=EMAIL_MAX),
        _s("firstName"), _s("lastName"), _s("title"), _s("company"),
        Rule("ownerId", Kind.ID),
        _time("updatedAt", required=True),
    )),
    Contract("se_sequence_states", key=("id", "updatedAt"), versioned=True, rules=(
        Rule("id", Kind.INTEGER, required=True),
        Rule("prospectId", Kind.INTEGER, required=True),
        Rule("sequenceId", Kind.INTEGER, required=True),
        Rule("state", Kind.ENUM, required=True, values=SEQUENCE_STATES),
        _time("createdAt"),
        _time("updatedAt", required=True),
    )),
    Contract("se_mailings", key=("id", "updatedAt"), versioned=True, rules=(
        Rule("id", Kind.INTEGER, required=True),
        Rule("prospectId", Kind.INTEGER, required=True),
        Rule("sequenceId", Kind.INTEGER, required=True),
        Rule("sequenceStepId", Kind.INTEGER),
        # the sending domain is the part after '@': a mailbox without one has no domain to pause
        _email("mailboxAddress", required=True),
        Rule("ownerId", Kind.ID),
        Rule("state", Kind.ENUM, values=MAILING_STATES),
        _time("deliveredAt"), _time("openedAt"), _time("clickedAt"), _time("repliedAt"), _time("bouncedAt"),
        _time("markedAsSpamAt"), _time("unsubscribedAt"),
        _time("updatedAt", required=True),
    )),
    Contract("enrichment_companies", key=("domain", "observed_at"), versioned=True, rules=(
        _s("domain", required=True, max_len=ID_MAX),
        _s("name"),
        Rule("employees", Kind.INTEGER, min_value=0, max_value=EMPLOYEES_MAX),
        _s("industry"), _s("country"), _s("funding_stage"),
        _time("observed_at", required=True),
    )),
    Contract("enrichment_signals", key=("signal_id",), rules=(
        _id("signal_id", required=True),
        _s("domain", required=True, max_len=ID_MAX),
        Rule("signal_type", Kind.ENUM, required=True, values=SIGNAL_TYPES),
        Rule("detail", Kind.OBJECT),
        _time("observed_at", required=True),
    )),
]}


def _p(name: str, kind: Kind = Kind.PROP_STRING, **kw) -> Rule:
    if kind == Kind.PROP_STRING:
        kw.setdefault("max_len", TEXT_MAX)
    return Rule(f"properties.{name}", kind, **kw)


_CRM_COMMON = (
    Rule("id", Kind.ID, required=True),
    Rule("properties", Kind.OBJECT, required=True),
    _time("createdAt"),
    _time("updatedAt", required=True),
)
_ENGAGEMENT = (_p("hubspot_owner_id", max_len=ID_MAX), _p("hs_lastmodifieddate", Kind.PROP_TIME))

CRM_CONTRACTS: dict[str, Contract] = {c.source: c for c in [
    Contract("crm_contacts", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + (
        _p("email", max_len=EMAIL_MAX), _p("firstname"), _p("lastname"), _p("jobtitle"), _p("company"),
        _p("phone"), _p("country"), _p("lifecyclestage"), _p("hs_lead_status"),
        _p("hubspot_owner_id", max_len=ID_MAX), _p("hs_email_optout"),
        _p("hs_merged_object_ids", max_len=100_000),
        _p("createdate", Kind.PROP_TIME), _p("lastmodifieddate", Kind.PROP_TIME),
        _p("revops_stage"), _p("revops_last_action"), _p("revops_next_action"), _p("revops_next_action_date"),
    )),
    Contract("crm_companies", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + (
        _p("name"), _p("domain", max_len=ID_MAX), _p("industry"),
        _p("numberofemployees", Kind.PROP_INTEGER, min_value=0, max_value=EMPLOYEES_MAX),
        _p("annualrevenue", Kind.PROP_NUMBER), _p("country"), _p("lifecyclestage"),
        _p("hubspot_owner_id", max_len=ID_MAX),
        _p("createdate", Kind.PROP_TIME), _p("hs_lastmodifieddate", Kind.PROP_TIME),
    )),
    Contract("crm_deals", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + (
        _p("dealname"), _p("amount", Kind.PROP_NUMBER), _p("dealstage", max_len=ID_MAX),
        _p("pipeline", max_len=ID_MAX),
        _p("closedate", Kind.PROP_TIME, scheduled=True),
        _p("createdate", Kind.PROP_TIME), _p("hubspot_owner_id", max_len=ID_MAX),
        _p("hs_lastmodifieddate", Kind.PROP_TIME),
    )),
    # a call is logged when it happened; a meeting or a task is planned, so its time may lie ahead
    Contract("crm_calls", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + _ENGAGEMENT + (
        _p("hs_timestamp", Kind.PROP_TIME), _p("hs_call_direction", max_len=ID_MAX),
    )),
    Contract("crm_meetings", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + _ENGAGEMENT + (
        _p("hs_timestamp", Kind.PROP_TIME, scheduled=True), _p("hs_meeting_outcome", max_len=ID_MAX),
    )),
    Contract("crm_tasks", key=("id", "updatedAt"), versioned=True, rules=_CRM_COMMON + _ENGAGEMENT + (
        _p("hs_timestamp", Kind.PROP_TIME, scheduled=True), _p("hs_task_status", max_len=ID_MAX),
        _p("hs_task_subject"), _p("hs_task_priority", max_len=ID_MAX), _p("hs_task_completion_date", Kind.PROP_TIME),
        _p("revops_action_key", max_len=ID_MAX),  # the warehouse's key of a task it created (reverse ETL)
    )),
    Contract("crm_owners", key=("id", "updatedAt"), versioned=True, rules=(
        Rule("id", Kind.ID, required=True),
        _email("email"), _s("firstName"), _s("lastName"),
        Rule("teams", Kind.ANY),
        _time("updatedAt"),
    )),
]}

CONTRACTS: dict[str, Contract] = {**FILE_CONTRACTS, **CRM_CONTRACTS}


# --- compiling a contract to SQL -------------------------------------------------------------------------------

def _lit(s: str) -> str:
    """A SQL string literal of a constant from this module (never of a record's value)."""
    return "'" + s.replace("'", "''") + "'"


def _bounds(rule: Rule) -> tuple[str, str]:
    days = SCHEDULED_HORIZON_DAYS if rule.scheduled else EVENT_HORIZON_DAYS
    return (f"timestamptz {_lit(EARLIEST + ' 00:00:00+00')}", f"(_landing_now + interval {days} day)")


def _rule_checks(rule: Rule, t: str, s: str, frag: str, ts: str | None = None) -> list[tuple[str, str]]:
    """(condition that is true when the present value is wrong, message) for a rule whose JSON type is `t`, its
    text `s` and, for lists only, its JSON fragment `frag`."""
    k = rule.kind
    out: list[tuple[str, str]] = []
    if k in (Kind.STRING, Kind.EMAIL, Kind.ENUM, Kind.PROP_STRING, Kind.PROP_INTEGER, Kind.PROP_NUMBER,
             Kind.PROP_TIME, Kind.TIME):
        out.append((f"{t} <> 'VARCHAR'", "should be a string"))
    if k == Kind.ID:
        out.append((f"{t} not in ('VARCHAR', 'UBIGINT', 'BIGINT')", "should be a string or an integer"))
    if k == Kind.ID or rule.nonempty:
        out.append((f"{t} = 'VARCHAR' and length(trim({s})) = 0", "is empty"))
    if k in (Kind.INTEGER, Kind.UNIX_SECONDS):
        out.append((f"{t} not in ('UBIGINT', 'BIGINT') or try_cast({s} as bigint) is null", "should be an integer"))
    if k == Kind.OBJECT:
        out.append((f"{t} <> 'OBJECT'", "should be an object"))
    if k == Kind.STRING_LIST:
        out.append((f"{t} <> 'ARRAY'", "should be a list of strings"))
        out.append((f"{t} = 'ARRAY' and not coalesce(list_bool_and(list_transform(json_extract({frag}, '$[*]'), "
                    f"lambda e: json_type(e) = 'VARCHAR' and length(e ->> '$') <= {rule.max_len or TEXT_MAX})), true)",
                    f"every element should be a string of at most {rule.max_len or TEXT_MAX} characters"))
    if rule.max_len and k != Kind.STRING_LIST:
        out.append((f"{t} = 'VARCHAR' and length({s}) > {rule.max_len}", f"longer than {rule.max_len} characters"))
    if k == Kind.EMAIL and rule.path == "mailboxAddress":
        out.append((f"{t} = 'VARCHAR' and split_part({s}, '@', 2) = ''", "should be an address with a domain"))
    if k == Kind.ENUM:
        vals = ", ".join(_lit(x) for x in rule.values)
        out.append((f"{t} = 'VARCHAR' and {s} not in ({vals})", f"should be one of {', '.join(rule.values)}"))
    lo, hi = _bounds(rule)
    if k == Kind.UNIX_SECONDS:
        secs = f"try_cast({s} as bigint)"
        out.append((f"{secs} < epoch({lo}) or {secs} > epoch({hi})",
                    "out of range (2000-01-01 to landing time + 1 day)"))
    if k in (Kind.TIME, Kind.PROP_TIME):
        ts = ts or f"try_cast({s} as timestamptz)"
        empty_ok = f"{s} = '' or " if k == Kind.PROP_TIME else ""
        out.append((f"{t} = 'VARCHAR' and not ({empty_ok}{ts} is not null)", "not a timestamp"))
        horizon = "landing time + 10 years" if rule.scheduled else "landing time + 1 day"
        out.append((f"{t} = 'VARCHAR' and ({ts} < {lo} or {ts} > {hi})", f"out of range (2000-01-01 to {horizon})"))
    if k == Kind.PROP_NUMBER:
        out.append((f"{t} = 'VARCHAR' and {s} <> '' and not coalesce(isfinite(try_cast({s} as double)), false)",
                    "not a number"))
    if k == Kind.PROP_INTEGER:
        out.append((f"{t} = 'VARCHAR' and {s} <> '' and try_cast({s} as integer) is null", "not an integer"))
    if k in (Kind.INTEGER, Kind.PROP_INTEGER) and (rule.min_value is not None or rule.max_value is not None):
        num = f"try_cast({s} as bigint)"
        out.append((f"{num} < {rule.min_value} or {num} > {rule.max_value}",
                    f"out of range ({rule.min_value} to {rule.max_value})"))
    return out


def paths(contract: Contract) -> list[str]:
    out = [r.path for r in contract.rules]
    for group in contract.one_of:
        out += [p for p in group if p not in out]
    return out


def _path_sql(p: str) -> str:
    return _lit(Rule(p, Kind.ANY).json_path)


def parse_sql(contract: Contract, text_col: str = "text", guard: str = "true") -> str:
    """Select-list items that parse the record twice in all (not once per rule): `_t`, the JSON type at every
    path the contract names, and `_s`, its text; plus a fragment `_f<i>` for each list-valued rule. Only rows
    where `guard` holds are parsed (DuckDB's JSON functions raise on text that is not JSON)."""
    plist = ", ".join(_path_sql(p) for p in paths(contract))
    # the record's own type comes last in _t ('$'): one parse for it and every field
    items = [(f"json_type({text_col}, [{plist}, '$'])", "_t"), (f"json_extract_string({text_col}, [{plist}])", "_s")]
    for i, p in enumerate(paths(contract), start=1):
        rule = contract.rule(p)
        if rule is not None and rule.kind == Kind.STRING_LIST:
            items.append((f"json_extract({text_col}, {_path_sql(p)})", f"_f{i}"))
    return ", ".join(f"case when {guard} then {expr} end as {name}" for expr, name in items)


def record_type_sql(contract: Contract) -> str:
    """The JSON type of the whole record ('OBJECT' for a record), from parse_sql's `_t`."""
    return "_t_root"


def times_sql(contract: Contract) -> str:
    """Select-list items casting each time field once (`_ts<i>`), for error_sql and key_sql: a timestamptz cast
    is the dearest check, and a rule uses its value three times. Needs `_s` (parse_sql) from the level below."""
    idx = {p: i + 1 for i, p in enumerate(paths(contract))}
    items = [f"try_cast(_s_{idx[r.path]} as timestamptz) as _ts{idx[r.path]}" for r in contract.rules
             if r.kind in (Kind.TIME, Kind.PROP_TIME)]
    return ", ".join(["true as _no_times", *items])


def unpack_sql(contract: Contract) -> str:
    """Select-list items taking each field's type and text out of parse_sql's lists once (`_t_<i>`, `_s_<i>`):
    a list element referenced in a dozen checks would otherwise be copied out a dozen times."""
    n = len(paths(contract))
    items = [f"_t[{i}] as _t_{i}, _s[{i}] as _s_{i}" for i in range(1, n + 1)]
    return ", ".join([*items, f"_t[{n + 1}] as _t_root"])


def error_sql(contract: Contract) -> str:
    """The reason a record (parsed by parse_sql) fails its contract, or null. Needs `_landing_now` in scope."""
    idx = {p: i + 1 for i, p in enumerate(paths(contract))}
    parts = []
    for rule in contract.rules:
        i = idx[rule.path]
        t, s = f"_t_{i}", f"_s_{i}"
        name = _lit(f"field '{rule.path}': ")
        # one CASE a rule: its first failing check (fewer, smaller expressions plan and run faster)
        whens = [f"when {t} is null or {t} = 'NULL' then "
                 + (f"{name} || 'required'" if rule.required else "null")]
        whens += [f"when {cond} then {name} || {_lit(msg)}" for cond, msg in _rule_checks(rule, t, s, f"_f{i}", f"_ts{i}")]
        parts.append("case " + " ".join(whens) + " end")
    for group in contract.one_of:
        conds = " and ".join(f"(_t_{idx[p]} is null or _t_{idx[p]} = 'NULL')" for p in group)
        names = " or ".join(f"'{p}'" for p in group)
        parts.append(f"case when {conds} then {_lit(f'field {names}: one of them is required')} end")
    return f"nullif(concat_ws('; ', {', '.join(parts)}), '')"


def key_sql(contract: Contract) -> str:
    """The delivery key of a valid record. Times are normalized to UTC milliseconds, so the same instant written
    with another offset is the same delivery."""
    idx = {p: i + 1 for i, p in enumerate(paths(contract))}
    parts = []
    for p in contract.key:
        s = f"_s_{idx[p]}"
        rule = contract.rule(p)
        if rule is not None and rule.kind in (Kind.TIME, Kind.PROP_TIME):
            parts.append(f"coalesce(strftime(_ts{idx[p]} at time zone 'UTC', "
                         "'%Y-%m-%dT%H:%M:%S.%gZ'), '')")
        else:
            parts.append(f"coalesce({s}, '')")
    return " || '|' || ".join(parts)


def check_records(con, contract: Contract, texts: list[str], now) -> list[tuple[str | None, str | None]]:
    """(error, delivery key) of each record text, checked by DuckDB — for the small batches of API pages; files go
    through the bulk path in files.py, which compiles the same rules."""
    import pyarrow as pa

    con.execute("select 1").fetchall()  # DuckDB 2 refuses register() while an earlier result is unread
    con.register("_records", pa.table({"i": pa.array(range(len(texts)), pa.int32()),
                                       "text": pa.array(texts, pa.large_string())}))
    try:
        ok = "json_valid(text)"
        rows = con.execute(f"""
            select i,
                   case when not {ok} then 'Invalid JSON'
                        when {record_type_sql(contract)} <> 'OBJECT' then 'the record should be a JSON object'
                        else {error_sql(contract)} end,
                   case when {ok} then {key_sql(contract)} end
            from (select *, {times_sql(contract)}
                  from (select *, {unpack_sql(contract)}
                        from (select i, text, {parse_sql(contract, guard=ok)} from _records)))
            cross join (select ?::timestamptz as _landing_now)
            order by i
        """, [now]).fetchall()
    finally:
        con.unregister("_records")
    return [(err, key) for _, err, key in rows]
