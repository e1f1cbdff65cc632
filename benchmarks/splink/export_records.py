"""Export one record per source entity from a built warehouse to Parquet, as the input of the Splink peer benchmark.

    .venv/bin/python benchmarks/splink/export_records.py --duckdb WAREHOUSE --out records.parquet

Runs in the project's venv (DuckDB 2): Splink needs DuckDB < 2, which cannot open this warehouse file, so Parquet
is the hand-over. A record is a CRM contact, a sales-engagement prospect, a Segment visitor (one anonymousId) or
an ESP recipient. Besides the fields Splink compares, each record lists the identifier nodes it carries
(`<identifier_type>:<normalized value>`, the items `revops.evaluation.identity` scores), so `score.py` can map the
record clusters back onto nodes."""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from pathlib import Path

import duckdb
import polars as pl

from revops.evaluation.normalize import normalize_email

# letters NFKD does not decompose into base + accent
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ß": "ss", "ł": "l", "đ": "d", "œ": "oe"})

CONTACTS_SQL = """
select c.contact_id, c.email, c.first_name, c.last_name, c.merged_contact_ids, co.company_domain
from main.stg_hubspot__contacts c
left join main.stg_hubspot__associations a
    on a.from_object = 'contacts' and a.to_object = 'companies' and a.from_object_id = c.contact_id
left join main.stg_hubspot__companies co on co.company_id = a.to_object_id
-- a contact could carry several company associations: keep one, deterministically
qualify row_number() over (partition by c.contact_id order by a.to_object_id) = 1
order by c.contact_id
"""

PROSPECTS_SQL = """
select prospect_id::varchar as prospect_id, from_json(emails, '["varchar"]') as emails, first_name, last_name
from main.stg_sales_engagement__prospects
order by prospect_id
"""

# Emails in the order the visitor gave them, so the first is the one first identified with; names from the first
# identify call that has them; the latest group call's domain (a visitor's current company).
VISITORS_SQL = """
select
    anonymous_id,
    list(email order by occurred_at, message_id)
        filter (where call_type in ('identify', 'track') and email is not null) as emails,
    list(distinct user_id) filter (where user_id is not null) as user_ids,
    arg_min(first_name, occurred_at) filter (where call_type = 'identify' and first_name is not null) as first_name,
    arg_min(last_name, occurred_at) filter (where call_type = 'identify' and last_name is not null) as last_name,
    arg_max(group_domain, occurred_at) filter (where group_domain is not null) as group_domain
from main.stg_segment__events
group by anonymous_id
order by anonymous_id
"""

RECIPIENTS_SQL = """
select distinct recipient_email from main.stg_esp__events where recipient_email is not null order by 1
"""


def normalize_name(raw: str | None) -> str | None:
    """Lower case, accents and anything but letters removed (docs/identity.md's full-name normalization)."""
    if raw is None:
        return None
    s = unicodedata.normalize("NFKD", raw.strip().lower().translate(_FOLD))
    s = "".join(ch for ch in s if "a" <= ch <= "z")
    return s or None


class Records:
    """Accumulates records; `add` derives the compared email fields and the nodes from a record's raw emails."""

    def __init__(self, role_prefixes: set[str], freemail: set[str]):
        self.role_prefixes = role_prefixes
        self.freemail = freemail
        self.rows: list[dict] = []

    def person_emails(self, raw_emails: list[str | None]) -> list[str]:
        """Normalized, de-duplicated, in order; role and junk mailboxes dropped: they never bridge people
        (docs/identity.md), so they are neither compared nor carried as nodes."""
        out: list[str] = []
        for raw in raw_emails:
            e = normalize_email(raw)
            if e and e.split("@")[0] not in self.role_prefixes and e not in out:
                out.append(e)
        return out

    def work_domain(self, emails: list[str]) -> str | None:
        for e in emails:
            domain = e.split("@")[1]
            if domain not in self.freemail:
                return domain
        return None

    def add(self, source: str, entity_id: str, raw_emails: list[str | None], first_name: str | None,
            last_name: str | None, company_domain: str | None, nodes: list[str],
            segment_user_id: str | None = None) -> None:
        emails = self.person_emails(raw_emails)
        nodes = nodes + [f"email:{e}" for e in emails]
        if not nodes:
            return
        primary = emails[0] if emails else None
        self.rows.append({
            "unique_id": f"{source}:{entity_id}",
            "source": source,
            "email": primary,
            "email_local": primary.split("@")[0] if primary else None,
            "emails": emails or None,
            "first_name": normalize_name(first_name),
            "last_name": normalize_name(last_name),
            "company_domain": (company_domain or "").strip().lower() or self.work_domain(emails),
            "segment_user_id": segment_user_id,
            "nodes": nodes,
        })


def export(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    role_prefixes = {r[0].lower() for r in con.execute("select prefix from config.role_address_prefixes").fetchall()}
    freemail = {r[0].lower() for r in con.execute("select domain from config.freemail_domains").fetchall()}
    recs = Records(role_prefixes, freemail)

    for cid, email, first, last, merged, domain in con.execute(CONTACTS_SQL).fetchall():
        # a CRM merge (hs_merged_object_ids) is a deterministic edge: the surviving contact carries the merged ids
        merged_ids = [m.strip() for m in (merged or "").split(";") if m.strip()]
        recs.add("crm", cid, [email], first, last, domain,
                 [f"crm_contact_id:{cid}"] + [f"crm_contact_id:{m}" for m in merged_ids])

    for pid, emails, first, last in con.execute(PROSPECTS_SQL).fetchall():
        recs.add("prospect", pid, emails or [], first, last, None, [f"prospect_id:{pid}"])

    for anon, emails, user_ids, first, last, group_domain in con.execute(VISITORS_SQL).fetchall():
        user_ids = sorted(user_ids or [])
        recs.add("segment", anon, emails or [], first, last, group_domain,
                 [f"segment_anonymous_id:{anon}"] + [f"segment_user_id:{u}" for u in user_ids],
                 segment_user_id=user_ids[0] if user_ids else None)

    # the ESP writes one address in several spellings (case, +tag): one recipient per normalized address
    recipients = {normalize_email(e) for (e,) in con.execute(RECIPIENTS_SQL).fetchall()} - {None}
    for email in sorted(recipients):
        recs.add("esp", email, [email], None, None, None, [])

    schema = {"unique_id": pl.String, "source": pl.String, "email": pl.String, "email_local": pl.String,
              "emails": pl.List(pl.String), "first_name": pl.String, "last_name": pl.String,
              "company_domain": pl.String, "segment_user_id": pl.String, "nodes": pl.List(pl.String)}
    return pl.DataFrame(recs.rows, schema=schema)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duckdb", required=True, type=Path, help="a warehouse built with staging and seeds")
    ap.add_argument("--out", required=True, type=Path, help="records Parquet file to write")
    args = ap.parse_args()

    t0 = time.perf_counter()
    con = duckdb.connect(str(args.duckdb), read_only=True)
    records = export(con)
    con.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    records.write_parquet(args.out)
    seconds = time.perf_counter() - t0
    by_source = dict(records.group_by("source").len().sort("source").iter_rows())
    # score.py reports this phase beside Splink's
    args.out.with_suffix(".json").write_text(json.dumps(
        {"seconds": round(seconds, 2), "records": records.height, "records_by_source": by_source}, indent=2))
    print(f"exported {records.height:,} records {by_source} to {args.out} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
