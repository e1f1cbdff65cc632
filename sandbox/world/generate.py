"""Generate one sandbox world: `crm/`, `landing/` and `truth/` (docs/landing.md and 3.6), deterministically.

    generate_world(WorldConfig.for_scale("M", seed=7), Path("worlds/m"))

Same config -> byte-identical files. Memory is bounded by processing persons in blocks (config
`persons_per_block`); CRM files are appended block by block, file sources get one file set per block.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import resource
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from . import vocab
from .activity import BlockView, esp_events, esp_sends, sales_activity, segment_events
from .config import WorldConfig
from .emit import BreakRules, inject_broken, inject_duplicates, iso, write_partitioned
from .population import COMPANY_ID_BASE, DAY, HOUR, MINUTE, Population, build_population

DEAL_ID_BASE, CALL_ID_BASE, MEETING_ID_BASE, TASK_ID_BASE = 9_000_001, 20_000_001, 30_000_001, 40_000_001
STATE_ID_BASE, MAILING_ID_BASE = 1, 1

BREAK_RULES = {
    "esp": BreakRules(r'"timestamp":\d+', '"timestamp":"2026-13-45 25:61"', r'"email":"([^"]*)"', '"email":["$1"]'),
    "segment": BreakRules(r'"timestamp":"[^"]*"', '"timestamp":"not-a-timestamp"', r'"type":"(\w+)"', '"type":["$1"]'),
    "sales_engagement": BreakRules(r'"updatedAt":"[^"]*"', '"updatedAt":"31/02/2026 25:00"', r'"id":(\d+)', '"id":{"value":$1}'),
    "enrichment": BreakRules(r'"observed_at":"[^"]*"', '"observed_at":"last tuesday"', r'"domain":"([^"]*)"', '"domain":["$1"]'),
}

Progress = Callable[[str], None]


def _props(**cols: pl.Expr) -> pl.Expr:
    """A HubSpot `properties` object: every value a string (or null)."""
    return pl.struct(*[e.cast(pl.String).alias(k) for k, e in cols.items()]).alias("properties")


def _hs_record(id_col: pl.Expr, props: pl.Expr, created: str, updated: str, archived: pl.Expr | bool = False,
               assoc: pl.Expr | None = None) -> pl.Expr:
    fields = [id_col.cast(pl.String).alias("id"), props, iso(created).alias("createdAt"), iso(updated).alias("updatedAt"),
              (archived if isinstance(archived, pl.Expr) else pl.lit(archived)).alias("archived")]
    if assoc is not None:
        fields.append(assoc.alias("associations"))
    return pl.struct(fields).struct.json_encode()


def _assoc(target: str, type_name: str, id_col: str) -> pl.Expr:
    """{"companies": {"results": [{"id": "...", "type": "contact_to_company"}]}} or null when no target."""
    one = pl.struct(pl.col(id_col).cast(pl.String).alias("id"), pl.lit(type_name).alias("type"))
    return pl.when(pl.col(id_col).is_not_null()).then(
        pl.struct(pl.struct(pl.concat_list(one).alias("results")).alias(target)))


def _append_lines(path: Path, lines: pl.Series) -> None:
    if lines.len():
        with path.open("a", encoding="utf-8") as f:
            f.write(lines.str.join("\n").item())
            f.write("\n")


def build_campaigns(cfg: WorldConfig, rng: np.random.Generator, start: int, end: int) -> pl.DataFrame:
    """Two newsletters a week alternating between two marketing domains, plus a daily nurture stream on each
    marketing domain (so every domain has daily volume for the 7-day kill-switch window)."""
    days = cfg.scale.days
    rows = []
    for k in range(int(days / 3.5)):
        t = start + int(k * 3.5 * DAY) + 14 * HOUR
        rows.append((f"cmp_{k + 1:04d}", t, 2 * HOUR, vocab.MARKETING_DOMAINS[k % 2], "newsletter", 0.22))
    for d in range(days):
        for i, dom in enumerate(vocab.MARKETING_DOMAINS):
            rows.append((f"cmp_nurture_{i + 1}", start + d * DAY + 9 * HOUR, 8 * HOUR, dom, "nurture", 0.01))
    df = pl.DataFrame(rows, schema=["campaign_id", "send_ms", "spread_ms", "sending_domain", "category", "audience_share"],
                      orient="row")
    return df.filter(pl.col("send_ms") < end)


def generate_world(cfg: WorldConfig, out: Path, progress: Progress | None = None) -> dict:
    """Write the world into `out` (its crm/, landing/ and truth/ are replaced). Returns the manifest."""
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    out = Path(out)
    for sub in ("crm", "landing", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    crm, land, truth = out / "crm", out / "landing", out / "truth"
    r = cfg.rates

    rng = np.random.default_rng(cfg.seed)
    pop = build_population(cfg, rng)  # as world_population(cfg); the same generator goes on to the campaigns
    start, end = pop.start_ms, pop.end_ms
    say(f"population: {pop.persons.height:,} persons, {pop.accounts.height:,} accounts, "
        f"{pop.contacts.height:,} CRM contact records, {pop.owners.height} owners")
    campaigns = build_campaigns(cfg, rng, start, end)
    degrade_ms = start + int(r.degrade_at_fraction * cfg.scale.days) * DAY

    n = pop.persons.height
    last_activity = np.full(n, -1, dtype=np.int64)  # for contacts' lastmodifieddate
    stage = np.zeros(n, dtype=np.int8)  # 0 lead, 1 MQL (request), 2 SQL (meeting), 3 opportunity, 4 customer
    counts: dict = {}
    truth_frames: dict[str, list[pl.DataFrame]] = {k: [] for k in TRUTH_PARTS}
    ids = {"deal": DEAL_ID_BASE, "call": CALL_ID_BASE, "meeting": MEETING_ID_BASE, "task": TASK_ID_BASE,
           "state": STATE_ID_BASE, "mailing": MAILING_ID_BASE}
    contact_of = np.full(n, -1, dtype=np.int64)
    prim = pop.contacts.filter(pl.col("kind") == "primary")
    contact_of[prim["person_idx"].to_numpy()] = prim["contact_id"].to_numpy()
    acc = pop.accounts.sort("company_created_ms").with_columns(
        company_id=pl.int_range(pl.len(), dtype=pl.Int64) + COMPANY_ID_BASE).sort("account_idx")
    company_of = np.where(acc["in_crm"].to_numpy(), acc["company_id"].to_numpy(), -1)
    owner_email = dict(zip(pop.owners["owner_id"].to_list(), pop.owners["email"].to_list()))
    ctx = WorldContext(cfg, pop, campaigns, degrade_ms, land, crm, contact_of, company_of, owner_email)

    n_blocks = -(-n // cfg.persons_per_block)
    worker_peak = 0.0
    peak = lambda: max(_peak_gib(), worker_peak)  # noqa: E731  (GiB, largest single process so far)
    with _block_runner(ctx, n_blocks) as run:
        for bno in range(n_blocks):
            # blocks run one after another: CRM files are appended in block order and ids continue
            res = run(bno, ids)
            ids = res.ids
            for k, frames in res.truth.items():
                truth_frames[k].extend(frames)
            _add_counts(counts, res.counts)
            if len(res.activity_idx):
                np.maximum.at(last_activity, res.activity_idx, res.activity_ms)
            if len(res.stage_idx):
                np.maximum.at(stage, res.stage_idx, res.stage_level)
            worker_peak = max(worker_peak, res.peak_gib)
            say(f"block {bno + 1}/{n_blocks}: {res.summary} ({time.perf_counter() - t0:.1f}s, peak {peak():.2f} GiB)")

    _write_crm_objects(crm, pop, acc, company_of, last_activity, stage, start, end, ids)
    say(f"CRM objects written ({time.perf_counter() - t0:.1f}s, peak {peak():.2f} GiB)")
    _write_enrichment(land, pop, np.random.default_rng([cfg.seed, 0]), start, end, truth_frames, counts, cfg)
    say(f"enrichment written ({time.perf_counter() - t0:.1f}s, peak {peak():.2f} GiB)")
    manifest = _write_truth(truth, cfg, pop, acc, truth_frames, counts, stage, degrade_ms, start, end)
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    say(f"done in {manifest['seconds']}s, peak {peak():.2f} GiB")
    return manifest


def world_population(cfg: WorldConfig) -> Population:
    """The population generate_world(cfg) builds, for checks against the law: its persons (with the opportunity
    times and oracle propensities of truth/persons.csv) and, through `Population.latent(idx)`, each person's latent
    path by day (intent, p30, hazard) over the window and the 30 days after as_of."""
    return build_population(cfg, np.random.default_rng(cfg.seed))


TRUTH_PARTS = ("identifiers", "prospects", "broken", "requests", "collisions", "esp_daily")


@dataclass
class WorldContext:
    """What every block needs from the whole world (pickled to a block's worker process at scale L)."""

    cfg: WorldConfig
    pop: Population
    campaigns: pl.DataFrame
    degrade_ms: int
    land: Path
    crm: Path
    contact_of: np.ndarray
    company_of: np.ndarray
    owner_email: dict


@dataclass
class BlockResult:
    ids: dict
    truth: dict[str, list[pl.DataFrame]]
    counts: dict
    activity_idx: np.ndarray  # person_idx, time of a CRM activity (for contacts' lastmodifieddate)
    activity_ms: np.ndarray
    stage_idx: np.ndarray  # person_idx, funnel level reached
    stage_level: np.ndarray
    summary: str
    peak_gib: float


BLOCKS_PER_WORKER = 5  # a fresh worker every 5 blocks: ~0.8 GiB of retained memory at most, 8 context transfers at L

_WORKER_CTX: WorldContext | None = None


def _init_worker(ctx: WorldContext) -> None:
    global _WORKER_CTX
    _WORKER_CTX = ctx


def _run_block_in_worker(bno: int, ids: dict) -> BlockResult:
    return run_block(_WORKER_CTX, bno, ids)


@contextlib.contextmanager
def _block_runner(ctx: WorldContext, n_blocks: int):
    """Run blocks in this process, or (several blocks) in worker processes renewed every few blocks.

    Run in one process, scale L kept ~150 MB more per block (allocator fragmentation from polars and
    short-lived Python strings) and passed 8 GiB; a worker that exits returns all of it. forkserver forks
    workers from a clean, single-threaded server, never from this process (whose polars thread pool makes a
    plain fork unsafe). The world context goes to each worker once (pickling it takes seconds at L).
    """
    if n_blocks == 1:
        yield lambda bno, ids: run_block(ctx, bno, ids)
        return
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(["sandbox.world.generate"])
    with ProcessPoolExecutor(max_workers=1, mp_context=mp, initializer=_init_worker, initargs=(ctx,),
                             max_tasks_per_child=BLOCKS_PER_WORKER) as pool:
        yield lambda bno, ids: pool.submit(_run_block_in_worker, bno, ids).result()


def _add_counts(total: dict, part: dict) -> None:
    for k, v in part.items():
        if isinstance(v, dict):
            _add_counts(total.setdefault(k, {}), v)
        else:
            total[k] = total.get(k, 0) + v


def run_block(ctx: WorldContext, bno: int, ids: dict) -> BlockResult:
    """Simulate and write one block of persons: its Segment, sales-engagement and ESP files, and its CRM
    engagements (appended). Depends only on (seed, block number, ids so far), so its output is the same
    whichever process runs it."""
    cfg, pop, land, crm = ctx.cfg, ctx.pop, ctx.land, ctx.crm
    r = cfg.rates
    start, end = pop.start_ms, pop.end_ms
    ids = dict(ids)
    lo = bno * cfg.persons_per_block
    hi = min(pop.persons.height, lo + cfg.persons_per_block)
    brng = np.random.default_rng([cfg.seed, bno + 1])
    b = BlockView(np.arange(lo, hi), pop, cfg)
    tag = f"b{bno:03d}"
    truth_frames: dict[str, list[pl.DataFrame]] = {k: [] for k in TRUTH_PARTS}
    counts: dict = {}

    # ---- Segment
    sg = segment_events(b, brng, start, end)
    seg = sg["events"]
    counts["_anon"] = dict(sg["stats"])
    seg, nd = inject_duplicates(seg, r.duplicate_delivery_rate, brng, 2 * HOUR)
    seg = inject_broken(seg, BREAK_RULES["segment"], r.broken_record_rate, brng)
    w = write_partitioned(seg, land, "segment", f"events-{tag}", "jsonl", end, cfg.events_per_file,
                          gzip_every_other_day=True)
    _collect(truth_frames, counts, "segment", w, nd)
    truth_frames["identifiers"].append(_segment_identifiers(seg, pop))

    # ---- sales activity -> sales-engagement export + CRM engagements
    sa = sales_activity(b, brng, start, end, pop.owners.height)
    gid = lambda f: b.idx[f["j"].to_numpy()]  # noqa: E731
    counts["_double"] = {"count": int((sa["states"]["kind"] == "double").sum()),
                         "of_outbound_enrolled": int((sa["states"]["kind"] == "outbound").sum())}
    acts = [(sa["calls"], "t"), (sa["meetings"], "created"), (sa["deals"], "created")]
    activity_idx = np.concatenate([gid(f) for f, _ in acts])
    activity_ms = np.concatenate([f[c].to_numpy() for f, c in acts])
    won = sa["deals"].filter(pl.col("stage") == "closedwon")
    levels = [(sa["requests"], 1), (sa["meetings"], 2), (sa["deals"], 3), (won, 4)]
    stage_idx = np.concatenate([gid(f) for f, _ in levels])
    stage_level = np.concatenate([np.full(f.height, lv, dtype=np.int8) for f, lv in levels])
    truth_frames["requests"].append(sa["requests"].with_columns(
        person_idx=pl.Series(b.idx[sa["requests"]["j"].to_numpy()])).drop("j"))
    _write_engagements(crm, sa, b, ids, ctx.contact_of, ctx.company_of)

    se = _sales_engagement_records(sa, b, brng, ids, ctx.owner_email, end)
    for obj, frame in se.items():
        frame, nd = inject_duplicates(frame, r.duplicate_delivery_rate if obj == "mailings" else 0.0, brng, 6 * HOUR)
        frame = inject_broken(frame, BREAK_RULES["sales_engagement"], r.broken_record_rate, brng)
        w = write_partitioned(frame, land, f"sales_engagement/{obj}", f"export-{tag}", "jsonl", end,
                              cfg.events_per_file)
        _collect(truth_frames, counts, f"sales_engagement/{obj}", w, nd)
    truth_frames["prospects"].append(se["prospects"].filter(pl.col("truth_version") == 1).select(
        "truth_person_idx", "truth_emails", pl.col("truth_prospect_id").cast(pl.String)))

    # ---- marketing email
    sends = esp_sends(b, brng, start, end, ctx.campaigns, sa["mailings"])
    trig = sends.filter("trigger")
    truth_frames["collisions"].append(trig.select(person_idx=pl.Series(b.idx[trig["j"].to_numpy()]),
                                                  marketing_send_ms="t", address="address"))
    # ids are mix_ids(seq + salt): blocks 2**32 apart, so no two blocks' ids meet (salts 1 apart made block b's k-th
    # event the same sg_event_id as block b-1's (k+1)-th: in L's 40 blocks 97 % of ESP events repeated a key with
    # another payload). Block 0 (every world of one block: S, M) keeps its ids.
    esp = esp_events(b, brng, sends, ctx.degrade_ms, end, salt=cfg.seed * 1_000 + bno * 2**32)
    esp, nd = inject_duplicates(esp, r.duplicate_delivery_rate, brng, 2 * HOUR)
    esp = inject_broken(esp, BREAK_RULES["esp"], r.broken_record_rate, brng)
    esp = esp.with_columns(truth_domain="sending_domain", truth_event="event", truth_t="t")
    w = write_partitioned(esp, land, "esp/events", f"webhook-{tag}", "json_array", end, cfg.events_per_file)
    _collect(truth_frames, counts, "esp", w, nd)
    # per-day counts now, not raw events: at L the raw events would be ~30M rows held to the end
    truth_frames["esp_daily"].append(
        w.filter(pl.col("broken_kind").is_null() & ~pl.col("is_duplicate"))
        .with_columns(day=pl.from_epoch("truth_t", time_unit="ms").dt.date())
        .group_by("truth_domain", "day").agg(
            sends=(pl.col("truth_event") == "processed").sum(), bounces=(pl.col("truth_event") == "bounce").sum(),
            complaints=(pl.col("truth_event") == "spamreport").sum(),
            # docs/kpis.md: unsubscribes are ESP unsubscribe and group_unsubscribe
            unsubscribes=pl.col("truth_event").is_in(["unsubscribe", "group_unsubscribe"]).sum()))
    truth_frames["identifiers"].append(esp.filter(~pl.col("is_duplicate")).select(
        source=pl.lit("esp"), identifier_type=pl.lit("email"), identifier="email",
        person_idx="truth_person_idx", shared="truth_role").unique())
    summary = f"{seg.height:,} segment, {esp.height:,} ESP events, {sa['mailings'].height:,} mailings"
    return BlockResult(ids, truth_frames, counts, activity_idx, activity_ms, stage_idx, stage_level, summary,
                       _peak_gib())


def _collect(tf: dict, counts: dict, source: str, written: pl.DataFrame, n_dup: int) -> None:
    counts[f"{source}.records"] = counts.get(f"{source}.records", 0) + written.height
    counts[f"{source}.files"] = counts.get(f"{source}.files", 0) + written["file"].n_unique()
    counts[f"{source}.duplicates"] = counts.get(f"{source}.duplicates", 0) + int(written["is_duplicate"].sum())
    counts[f"{source}.broken"] = counts.get(f"{source}.broken", 0) + int(written["broken_kind"].is_not_null().sum())
    tf["broken"].append(written.filter(pl.col("broken_kind").is_not_null()).select(
        pl.lit(source).alias("source"), "file", "line", kind="broken_kind"))


def _segment_identifiers(seg: pl.DataFrame, pop: Population) -> pl.DataFrame:
    roles = pop.role_addresses["role_email"].unique()
    s = seg.filter(~pl.col("is_duplicate"))
    parts = [s.select(identifier_type=pl.lit(k), identifier=pl.col(c), person_idx="truth_person_idx")
             for k, c in (("segment_user_id", "userId"), ("segment_anonymous_id", "anonymousId"), ("email", "email"))]
    return (pl.concat(parts).drop_nulls("identifier").unique()
            .with_columns(source=pl.lit("segment"), shared=pl.col("identifier").is_in(roles.implode()))
            .select("source", "identifier_type", "identifier", "person_idx", "shared"))


def _take_ids(ids: dict, key: str, n: int) -> np.ndarray:
    out = np.arange(ids[key], ids[key] + n, dtype=np.int64)
    ids[key] += n
    return out


def _write_engagements(crm: Path, sa: dict, b: BlockView, ids: dict, contact_of, company_of) -> None:
    def with_contact(f: pl.DataFrame) -> pl.DataFrame:
        g = b.idx[f["j"].to_numpy()]
        c = contact_of[g]
        return f.with_columns(contact_id=pl.Series(np.where(c > 0, c, None).tolist(), dtype=pl.Int64))

    calls = with_contact(sa["calls"].sort(["t", "j"]))
    calls = calls.with_columns(id=pl.Series(_take_ids(ids, "call", calls.height)))
    _append_lines(crm / "calls.jsonl", calls.select(_hs_record(
        pl.col("id"),
        _props(hs_timestamp=iso("t"), hubspot_owner_id=pl.col("owner_id"), hs_call_direction=pl.col("direction"),
               hs_call_status=pl.lit("COMPLETED"), hs_call_title=pl.lit("Call"), hs_createdate=iso("t"),
               hs_lastmodifieddate=iso("t"), hs_object_id=pl.col("id")),
        "t", "t", assoc=_assoc("contacts", "call_to_contact", "contact_id"))).to_series())

    meet = with_contact(sa["meetings"].sort(["created", "j"]))
    meet = meet.with_columns(id=pl.Series(_take_ids(ids, "meeting", meet.height)),
                             owner_id=pl.Series(b.owner[meet["j"].to_numpy()]),
                             updated=pl.max_horizontal("created", pl.when(pl.col("outcome") != "SCHEDULED").then("at")))
    _append_lines(crm / "meetings.jsonl", meet.select(_hs_record(
        pl.col("id"),
        _props(hs_timestamp=iso("at"), hubspot_owner_id=pl.col("owner_id"), hs_meeting_outcome=pl.col("outcome"),
               hs_meeting_title=pl.lit("Intro meeting"), hs_createdate=iso("created"),
               hs_lastmodifieddate=iso("updated"), hs_object_id=pl.col("id")),
        "created", "updated", assoc=_assoc("contacts", "meeting_to_contact", "contact_id"))).to_series())

    tasks = with_contact(sa["tasks"].sort(["due", "j"]))
    tasks = tasks.with_columns(id=pl.Series(_take_ids(ids, "task", tasks.height)), created=pl.col("due") - DAY)
    _append_lines(crm / "tasks.jsonl", tasks.select(_hs_record(
        pl.col("id"),
        _props(hs_timestamp=iso("due"), hubspot_owner_id=pl.col("owner_id"),
               hs_task_status=pl.when(pl.col("done")).then(pl.lit("COMPLETED")).otherwise(pl.lit("NOT_STARTED")),
               hs_task_subject=pl.col("subject"), hs_task_priority=pl.lit("HIGH"), hs_createdate=iso("created"),
               hs_lastmodifieddate=iso("created"), hs_object_id=pl.col("id")),
        "created", "created", assoc=_assoc("contacts", "task_to_contact", "contact_id"))).to_series())

    deals = with_contact(sa["deals"].sort(["created", "j"]))
    deals = deals.with_columns(
        id=pl.Series(_take_ids(ids, "deal", deals.height)),
        company_id=pl.Series([int(x) if x > 0 else None for x in company_of[deals["account_idx"].to_numpy()]], dtype=pl.Int64),
        company_name=pl.Series(b.company_of[deals["account_idx"].to_numpy()]),
    )
    _write_deals(crm, deals)


def _write_deals(crm: Path, deals: pl.DataFrame) -> None:
    closed = pl.col("stage").is_in(["closedwon", "closedlost"])
    updated = pl.when(closed).then(pl.col("closedate")).otherwise(pl.col("created"))
    deals = deals.with_columns(updated=updated)
    results = lambda id_col, typ: pl.when(pl.col(id_col).is_not_null()).then(  # noqa: E731
        pl.struct(pl.concat_list(pl.struct(pl.col(id_col).cast(pl.String).alias("id"), pl.lit(typ).alias("type"))).alias("results")))
    assoc = pl.struct(results("company_id", "deal_to_company").alias("companies"),
                      results("contact_id", "deal_to_contact").alias("contacts"))
    _append_lines(crm / "deals.jsonl", deals.select(_hs_record(
        pl.col("id"),
        _props(dealname=pl.col("company_name") + " - New Business", amount=pl.col("amount").cast(pl.Int64),
               dealstage=pl.col("stage"), pipeline=pl.lit("default"), closedate=iso("closedate"),
               createdate=iso("created"), hubspot_owner_id=pl.col("owner_id"), hs_lastmodifieddate=iso("updated"),
               hs_object_id=pl.col("id")),
        "created", "updated", assoc=assoc)).to_series())


def _sales_engagement_records(sa: dict, b: BlockView, rng: np.random.Generator, ids: dict, owner_email: dict,
                              end: int) -> dict[str, pl.DataFrame]:
    r = b.cfg.rates
    states = sa["states"].with_columns(state_gid=pl.col("state_id") + ids["state"])
    ids["state"] += states.height
    mail = sa["mailings"].join(states.select("state_id", "state_gid"), on="state_id")
    mail = mail.with_columns(mailing_gid=pl.col("mailing_seq") + ids["mailing"])
    ids["mailing"] += mail.height
    pid = lambda j: b.idx[j] + 1  # noqa: E731  prospect id = person_idx + 1

    def arrival(t: np.ndarray) -> np.ndarray:
        late = rng.random(len(t)) < r.late_event_rate
        return t + np.where(late, rng.integers(DAY, 2 * DAY, len(t)), rng.integers(MINUTE, HOUR, len(t)))

    # ---- prospects: one per sequenced person; some re-exported later with a new owner
    first = states.group_by("j").agg(pl.col("created").min(), pl.col("owner_id").first()).sort("j")
    j = first["j"].to_numpy()
    t1 = first["created"].to_numpy() - rng.integers(HOUR, 5 * DAY, len(j))
    work_then = b.work_email_at(j, first["created"].to_numpy())
    emails = []
    multi = rng.random(len(j)) < r.multi_email_prospect_rate
    for k in range(len(j)):  # per prospect (not per event): builds the emails[] list
        e = [work_then[k]]
        jj = j[k]
        if b.changer[jj] and b.new_work[jj] and b.new_work[jj] not in e:
            e.append(b.new_work[jj] if work_then[k] == b.work[jj] else b.work[jj])
        if multi[k]:
            alt = b.personal[jj] or b.work[jj].replace("@", "+sales@", 1)
            if alt not in e:
                e.append(alt)
        emails.append(e)
    pr = pl.DataFrame({"j": j, "id": pid(j), "emails": emails, "first": b.first[j], "last": b.last[j],
                       "title": b.title[j], "company": b.company_of[b.account_at(j, first["created"].to_numpy())],
                       "owner_id": first["owner_id"], "updated": t1, "version": 1})
    re = rng.random(len(j)) < 0.3
    pr2 = pr.filter(pl.Series(re)).with_columns(
        updated=pl.col("updated") + pl.Series(rng.integers(DAY, 20 * DAY, int(re.sum()))),
        owner_id=70_000_001 + (pl.col("owner_id") - 70_000_001 + 1) % len(owner_email), version=pl.lit(2))
    pr = pl.concat([pr, pr2]).filter(pl.col("updated") < end).sort(["updated", "id", "version"])
    prospects = pr.with_columns(
        json=pl.struct("id", "emails", pl.col("first").alias("firstName"), pl.col("last").alias("lastName"),
                       "title", "company", pl.col("owner_id").alias("ownerId"),
                       iso("updated").alias("updatedAt")).struct.json_encode(),
        arrival_ms=pl.Series(arrival(pr["updated"].to_numpy())), order=pl.int_range(pl.len()),
        truth_person_idx=pl.Series(b.idx[pr["j"].to_numpy()]), truth_emails="emails", truth_prospect_id="id",
        truth_version="version")

    # ---- sequence states: active when enrolled, finished (or paused after an unsubscribe/bounce) at the end
    last = mail.group_by("state_id").agg(
        last_t=pl.max_horizontal("delivered", "bounced", "replied").max(),
        stopped=((pl.col("unsub") > 0) | (pl.col("bounced") > 0) | (pl.col("spam") > 0)).any(),
        replied=(pl.col("replied") > 0).any(), steps=pl.len())
    st = states.join(last, on="state_id", how="left").with_columns(
        final_t=pl.col("last_t") + 3 * DAY,
        final_state=pl.when(pl.col("stopped")).then(pl.lit("paused")).otherwise(pl.lit("finished")))
    v1 = st.select("j", "state_gid", "sequence_id", "created", updated="created", state=pl.lit("active"))
    v2 = st.filter(pl.col("final_t") < end).select("j", "state_gid", "sequence_id", "created", updated="final_t",
                                                   state="final_state")
    sv = pl.concat([v1, v2]).sort(["updated", "state_gid"])
    seq_states = sv.with_columns(
        json=pl.struct(pl.col("state_gid").alias("id"), pl.Series(pid(sv["j"].to_numpy())).alias("prospectId"),
                       pl.col("sequence_id").alias("sequenceId"), "state", iso("created").alias("createdAt"),
                       iso("updated").alias("updatedAt")).struct.json_encode(),
        arrival_ms=pl.Series(arrival(sv["updated"].to_numpy())), order=pl.int_range(pl.len()))

    # ---- mailings: exported again each time their state changes (latest updatedAt wins)
    owners = mail["owner_id"].to_numpy()
    box = [owner_email[int(o)] if o % 2 else owner_email[int(o)].replace(vocab.SALES_DOMAINS[0], vocab.SALES_DOMAINS[1])
           for o in owners]
    mail = mail.with_columns(mailbox=pl.Series(box, dtype=pl.String))
    ev_cols = ["delivered", "bounced", "opened", "clicked", "replied", "spam", "unsub"]
    versions = [mail.with_columns(updated=pl.max_horizontal("delivered", "bounced"), vrank=pl.lit(0))]
    versions.append(mail.filter(pl.col("opened") > 0).with_columns(updated=pl.max_horizontal("opened", "clicked"),
                                                                   vrank=pl.lit(1)))
    versions += [mail.filter(pl.col(c) > 0).with_columns(updated=pl.col(c), vrank=pl.lit(r))
                 for r, c in enumerate(("replied", "spam", "unsub"), start=2)]
    # one export per (id, updatedAt): when two changes share an instant (an open at the reply) the later
    # state is the one exported
    mv = (pl.concat(versions).filter(pl.col("updated") < end).sort(["updated", "mailing_gid", "vrank"])
          .unique(["mailing_gid", "updated"], keep="last", maintain_order=True))
    known = {c: pl.when((pl.col(c) > 0) & (pl.col(c) <= pl.col("updated"))).then(pl.col(c)) for c in ev_cols}
    mv = mv.with_columns(**{f"k_{c}": e for c, e in known.items()})
    state = (pl.when(pl.col("k_replied").is_not_null()).then(pl.lit("replied"))
             .when(pl.col("k_bounced").is_not_null()).then(pl.lit("bounced"))
             .when(pl.col("k_opened").is_not_null()).then(pl.lit("opened")).otherwise(pl.lit("delivered")))
    mailings = mv.with_columns(
        json=pl.struct(
            pl.col("mailing_gid").alias("id"), pl.Series(pid(mv["j"].to_numpy())).alias("prospectId"),
            pl.col("sequence_id").alias("sequenceId"), (pl.col("sequence_id") * 100 + pl.col("step")).alias("sequenceStepId"),
            pl.col("mailbox").alias("mailboxAddress"), pl.col("owner_id").alias("ownerId"), state.alias("state"),
            iso("k_delivered").alias("deliveredAt"), iso("k_opened").alias("openedAt"), iso("k_clicked").alias("clickedAt"),
            iso("k_replied").alias("repliedAt"), iso("k_bounced").alias("bouncedAt"), iso("k_spam").alias("markedAsSpamAt"),
            iso("k_unsub").alias("unsubscribedAt"), iso("updated").alias("updatedAt")).struct.json_encode(),
        arrival_ms=pl.Series(arrival(mv["updated"].to_numpy())), order=pl.int_range(pl.len()))
    return {"prospects": prospects, "sequence_states": seq_states, "mailings": mailings}


LIFECYCLE = np.array(["lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"])


def _write_crm_objects(crm: Path, pop: Population, acc: pl.DataFrame, company_of, last_activity, stage,
                       start: int, end: int, ids: dict) -> None:
    rng = np.random.default_rng([int(start), 99])
    o = pop.owners
    _append_lines(crm / "owners.jsonl", o.select(pl.struct(
        pl.col("owner_id").cast(pl.String).alias("id"), "email", pl.col("first_name").alias("firstName"),
        pl.col("last_name").alias("lastName"), (pl.col("owner_id") - 70_000_000 + 9_000_000).alias("userId"),
        iso("created_ms").alias("createdAt"), iso("created_ms").alias("updatedAt"), pl.lit(False).alias("archived"),
        pl.concat_list(pl.struct((pl.col("territory_idx") + 1).cast(pl.String).alias("id"),
                                 pl.col("territory").alias("name"), pl.lit(True).alias("primary"))).alias("teams"),
    ).struct.json_encode()).to_series())

    # existing customers won a deal before the window
    cust = acc.filter(pl.col("is_customer"))
    cust_deals = cust.select(
        "account_idx", company_name="name",
        created=pl.col("company_created_ms") + 30 * DAY, closedate=pl.col("company_created_ms") + 75 * DAY,
        stage=pl.lit("closedwon"), amount=(pl.col("employees") * 400 + 5_000).cast(pl.Float64),
        owner_id=pl.when(pl.col("owner_id") > 0).then("owner_id").otherwise(pl.lit(70_000_001)),
    ).with_columns(created=pl.min_horizontal("created", pl.lit(start - DAY)),
                   closedate=pl.min_horizontal("closedate", pl.lit(start - HOUR)))
    cust_deals = cust_deals.with_columns(
        id=pl.Series(_take_ids(ids, "deal", cust_deals.height)),
        company_id=pl.Series(company_of[cust_deals["account_idx"].to_numpy()]),
        contact_id=pl.lit(None, pl.Int64))
    _write_deals(crm, cust_deals.select("id", "company_name", "amount", "stage", "closedate", "created", "owner_id",
                                        "company_id", "contact_id"))

    # companies
    p = pop.persons
    acc_stage = (pl.DataFrame({"a": p["current_account_idx"], "s": stage}).group_by("a").agg(pl.col("s").max())
                 .sort("a"))
    a_stage = np.zeros(acc.height, np.int8)
    a_stage[acc_stage["a"].to_numpy()] = acc_stage["s"].to_numpy()
    a_stage = np.where(acc["is_customer"].to_numpy(), 4, a_stage)
    n = acc.height
    blank_ind, blank_emp, blank_rev = rng.random(n) < 0.2, rng.random(n) < 0.25, rng.random(n) < 0.5
    comp = acc.with_columns(
        lifecycle=pl.Series(LIFECYCLE[a_stage]),
        industry_v=pl.when(pl.Series(blank_ind)).then(None).otherwise("industry"),
        emp_v=pl.when(pl.Series(blank_emp)).then(None).otherwise("employees"),
        rev_v=pl.when(pl.Series(blank_rev)).then(None).otherwise(pl.col("employees") * 150_000),
        owner_v=pl.when(pl.col("owner_id") > 0).then("owner_id"),
        modified=pl.max_horizontal("company_created_ms", pl.lit(start) + (pl.col("account_idx") * 7919) % (end - start)),
    ).filter("in_crm").sort("company_id")
    _append_lines(crm / "companies.jsonl", comp.select(_hs_record(
        pl.col("company_id"),
        _props(name=pl.col("name"), domain=pl.col("domain"), industry=pl.col("industry_v"),
               numberofemployees=pl.col("emp_v"), annualrevenue=pl.col("rev_v"), country=pl.col("country"),
               lifecyclestage=pl.col("lifecycle"), hubspot_owner_id=pl.col("owner_v"),
               createdate=iso("company_created_ms"), hs_lastmodifieddate=iso("modified"),
               hs_object_id=pl.col("company_id")),
        "company_created_ms", "modified")).to_series())

    # contacts
    c = pop.contacts
    pi = c["person_idx"].fill_null(-1).to_numpy()
    has_p = pi >= 0
    safe = np.where(has_p, pi, 0)
    m = c.height
    acct_idx = c["account_idx"].to_numpy()
    owner_known = rng.random(m) < 0.7
    u = p["u"].to_numpy()[safe]
    s = np.where(has_p, stage[safe], 0)
    s = np.where(acc["is_customer"].to_numpy()[acct_idx], 4, s)
    modified = np.maximum(c["created_ms"].to_numpy(), np.where(has_p, last_activity[safe], -1))
    modified = np.where(c["archived"].to_numpy(), c["created_ms"].to_numpy() + DAY, modified)
    modified = np.minimum(modified, end - 1)
    kind = c["kind"].to_numpy()
    role = kind == "role"
    con = c.with_columns(
        first=pl.Series(np.where(role, None, p["first_name"].to_numpy()[safe]).tolist(), dtype=pl.String),
        last=pl.Series(np.where(role, None, p["last_name"].to_numpy()[safe]).tolist(), dtype=pl.String),
        title=pl.Series(np.where(role | (rng.random(m) < 0.15), None, p["title"].to_numpy()[safe]).tolist(), dtype=pl.String),
        company_name=pl.Series(acc["name"].to_numpy()[acct_idx]),
        phone=pl.Series(np.where(rng.random(m) < 0.5, None, np.char.add("+1-555-", (1_000_000 + np.arange(m)).astype(str)).astype(object)).tolist(), dtype=pl.String),
        country=pl.Series(np.where(rng.random(m) < 0.2, None, acc["country"].to_numpy()[acct_idx].astype(object)).tolist(), dtype=pl.String),
        lifecycle=pl.Series(LIFECYCLE[s]),
        lead_status=pl.Series(np.array(["NEW", "OPEN", "IN_PROGRESS", "CONNECTED", "CONNECTED"])[s]),
        owner=pl.Series(np.where(has_p & (owner_known | (s >= 2)), p["owner_id"].to_numpy()[safe], -1)),
        optout=pl.Series(np.where(has_p & (u < 0.02), "true", "false")),
        modified=pl.Series(modified),
        company_id=pl.Series([int(x) if x > 0 else None for x in company_of[acct_idx]], dtype=pl.Int64),
    )
    _append_lines(crm / "contacts.jsonl", con.select(_hs_record(
        pl.col("contact_id"),
        _props(email=pl.col("email"), firstname=pl.col("first"), lastname=pl.col("last"), jobtitle=pl.col("title"),
               company=pl.col("company_name"), phone=pl.col("phone"), country=pl.col("country"),
               lifecyclestage=pl.col("lifecycle"), hs_lead_status=pl.col("lead_status"),
               hubspot_owner_id=pl.when(pl.col("owner") > 0).then("owner"), hs_email_optout=pl.col("optout"),
               hs_merged_object_ids=pl.col("merged_ids"), createdate=iso("created_ms"),
               lastmodifieddate=iso("modified"), hs_object_id=pl.col("contact_id")),
        "created_ms", "modified", archived=pl.col("archived"),
        assoc=_assoc("companies", "contact_to_company", "company_id"))).to_series())


def _write_enrichment(land: Path, pop: Population, rng, start: int, end: int, tf: dict, counts: dict,
                      cfg: WorldConfig) -> None:
    """Two providers with different coverage, noise and freshness, and firmographic signals; the second
    provider re-reports part of the first one's signals (the same event under another signal_id)."""
    a = pop.accounts
    n = a.height
    for k, provider in enumerate(vocab.ENRICHMENT_PROVIDERS):
        cover = rng.random(n) < (0.8 if k == 0 else 0.6)
        stale = rng.random(n) < (0.1 if k == 0 else 0.3)  # observed long ago: older than the freshness limit
        obs = np.where(stale, start - rng.integers(200, 500, n) * DAY, start + (rng.random(n) * (end - start)).astype(np.int64))
        noise = np.exp(rng.normal(0, 0.1 if k == 0 else 0.25, n))
        wrong_ind = rng.random(n) < (0.05 if k == 0 else 0.15)
        ind = np.where(wrong_ind, np.array(vocab.INDUSTRIES)[rng.integers(0, len(vocab.INDUSTRIES), n)], a["industry"].to_numpy())
        comp = a.with_columns(
            employees_v=pl.Series(np.maximum(1, np.round(a["employees"].to_numpy() * noise)).astype(np.int64)),
            industry_v=pl.Series(ind), observed=pl.Series(obs),
            funding_v=pl.when(pl.Series(rng.random(n) < 0.2)).then(None).otherwise("funding_stage"),
        ).filter(pl.Series(cover)).sort(["observed", "account_idx"])
        comp = comp.with_columns(
            json=pl.struct("domain", "name", pl.col("employees_v").alias("employees"), pl.col("industry_v").alias("industry"),
                           "country", pl.col("funding_v").alias("funding_stage"),
                           iso("observed").alias("observed_at")).struct.json_encode(),
            arrival_ms=pl.max_horizontal("observed", pl.lit(start)), order=pl.int_range(pl.len()))
        # signals: rate grows with the account's (latent) intent; some events are reported by both providers
        ns = rng.poisson(cfg.scale.days / 90 * (0.05 + 1.2 * a["intent"].to_numpy()) * (1.0 if k == 0 else 0.4))
        sj = np.repeat(np.arange(n), ns)
        stype = np.array(["funding_round", "exec_hire", "job_posting"])[rng.choice(3, len(sj), p=[0.15, 0.25, 0.6])]
        st = start + (rng.random(len(sj)) * (end - start)).astype(np.int64)
        sig = pl.DataFrame({"a": sj, "type": stype, "t": st})
        if k == 0:
            first_provider = sig
        else:  # the second provider also reports 30% of the first one's events, hours later
            again = first_provider.filter(pl.Series(rng.random(first_provider.height) < 0.3))
            sig = pl.concat([sig, again.with_columns(t=pl.col("t") + pl.Series(rng.integers(HOUR, DAY, again.height)))])
        sig = sig.sort(["t", "a", "type"]).with_columns(seq=pl.int_range(pl.len()))
        sig = sig.with_columns(
            signal_id=pl.lit(f"{provider[:3]}_sig_") + pl.int_range(pl.len()).cast(pl.String).str.zfill(8),
            domain=pl.Series(a["domain"].to_numpy()[sig["a"].to_numpy()]),
        )
        # each signal type carries its own detail fields
        details = {
            "funding_round": pl.struct(pl.lit("Series B").alias("round"),
                                       ((pl.col("seq") % 40 + 5) * 1_000_000).alias("amount_usd")),
            "exec_hire": pl.struct(pl.lit("VP of Sales").alias("title")),
            "job_posting": pl.struct(pl.lit("Sales Development Representative").alias("job_title"),
                                     (pl.col("seq") % 5 + 1).alias("openings")),
        }
        head = [pl.col("signal_id"), pl.col("domain"), pl.col("type").alias("signal_type")]
        json = pl.lit(None, pl.String)
        for kind, detail in details.items():
            rec = pl.struct(*head, detail.alias("detail"), iso("t").alias("observed_at")).struct.json_encode()
            json = pl.when(pl.col("type") == kind).then(rec).otherwise(json)
        sig = sig.with_columns(json=json, arrival_ms=pl.col("t") + HOUR, order=pl.int_range(pl.len()))
        for obj, frame in (("companies", comp), ("signals", sig)):
            frame = inject_broken(frame.with_columns(is_duplicate=pl.lit(False)), BREAK_RULES["enrichment"],
                                  cfg.rates.broken_record_rate, rng)
            w = write_partitioned(frame, land, f"enrichment/{provider}/{obj}", obj, "jsonl", end, cfg.events_per_file,
                                  flat=True)
            _collect(tf, counts, f"enrichment/{provider}/{obj}", w, 0)


def _kill_switch(daily: pl.DataFrame, min_sends: int = 200, max_bounce: float = 0.02,
                 max_complaint: float = 0.0008) -> pl.DataFrame:
    """docs/kpis.md: paused on day d when days d-6..d hold >= 200 sends and bounce > 2% or complaint > 0.08%."""
    days = daily.select(pl.col("day").unique()).sort("day")
    full = (daily.select("sending_domain").unique().join(days, how="cross")
            .join(daily, on=["sending_domain", "day"], how="left").fill_null(0).sort(["sending_domain", "day"]))
    roll = lambda c: pl.col(c).rolling_sum(7, min_samples=1).over("sending_domain", order_by="day")  # noqa: E731
    full = full.with_columns(sends_7d=roll("sends"), bounces_7d=roll("bounces"), complaints_7d=roll("complaints"))
    return full.with_columns(
        paused=(pl.col("sends_7d") >= min_sends)
        & ((pl.col("bounces_7d") / pl.col("sends_7d") > max_bounce)
           | (pl.col("complaints_7d") / pl.col("sends_7d") > max_complaint)))


def _write_truth(truth: Path, cfg: WorldConfig, pop: Population, acc: pl.DataFrame, tf: dict, counts: dict,
                 stage, degrade_ms: int, start: int, end: int) -> dict:
    p, a = pop.persons, acc
    tpid = p["true_person_id"].to_numpy()
    taid = a["true_account_id"].to_numpy()
    ts = lambda c: pl.when(pl.col(c) > 0).then(iso(c))  # noqa: E731
    persons = p.select(
        "true_person_id", true_account_id=pl.Series(taid[p["current_account_idx"].to_numpy()]),
        first_account_id=pl.Series(taid[p["account_idx"].to_numpy()]), job_changed_at=ts("job_change_ms"),
        first_name="first_name", last_name="last_name", title="title", seniority="seniority",
        work_email="work_email", new_work_email="new_work_email", personal_email="personal_email",
        fit="fit", intent="intent", propensity="propensity", outcome_opportunity_30d="outcome_opportunity_30d",
        opportunity_at=ts("opportunity_ms"), opportunity_before_as_of="opportunity_before_as_of",
        is_role_user="is_role_user", owner_id="owner_id", funnel_stage=pl.Series(LIFECYCLE[stage]))
    persons.write_csv(truth / "persons.csv")
    company_id = a["company_id"].to_numpy()
    a.select("true_account_id", "domain", "name", "employees", "industry", "country", "territory", "funding_stage",
             "fit", "is_customer",
             crm_company_id=pl.when(pl.col("in_crm")).then(pl.Series(company_id)).cast(pl.String)).write_csv(
        truth / "accounts.csv")

    # identifiers: every source identifier -> its true person (role mailboxes are shared: no single person)
    roles = pop.role_addresses
    role_set = roles["role_email"].unique().implode()
    c = pop.contacts
    crm_ids = pl.concat([
        c.select(source=pl.lit("crm"), identifier_type=pl.lit("crm_contact_id"), identifier=pl.col("contact_id").cast(pl.String),
                 person_idx="person_idx", shared=pl.col("kind") == "role"),
        c.select(source=pl.lit("crm"), identifier_type=pl.lit("email"), identifier="email", person_idx="person_idx",
                 shared=pl.col("kind") == "role"),
    ])
    se = pl.concat(tf["prospects"])
    se_ids = pl.concat([
        se.select(source=pl.lit("sales_engagement"), identifier_type=pl.lit("prospect_id"), identifier="truth_prospect_id",
                  person_idx="truth_person_idx", shared=pl.lit(False)),
        se.explode("truth_emails").select(source=pl.lit("sales_engagement"), identifier_type=pl.lit("email"),
                                          identifier="truth_emails", person_idx="truth_person_idx",
                                          shared=pl.col("truth_emails").is_in(role_set)),
    ])
    ident = pl.concat([crm_ids, se_ids, *tf["identifiers"]], how="vertical_relaxed").with_columns(
        person_idx=pl.when(~pl.col("shared")).then("person_idx"))
    ident = ident.unique(["source", "identifier_type", "identifier", "person_idx"]).sort(
        ["source", "identifier_type", "identifier", "person_idx"], nulls_last=True)
    ident.select("source", "identifier_type", "identifier",
                 true_person_id=pl.when(pl.col("person_idx").is_not_null()).then(
                     pl.lit("P") + pl.col("person_idx").cast(pl.String).str.zfill(8)),
                 is_shared_role_address="shared").write_csv(truth / "identifiers.csv")
    roles.select("role_email", true_account_id=pl.Series(taid[roles["account_idx"].to_numpy()]),
                 true_person_id=pl.Series(tpid[roles["person_idx"].to_numpy()])).write_csv(truth / "role_addresses.csv")

    broken = pl.concat(tf["broken"]).sort(["source", "file", "line"])
    broken.write_csv(truth / "broken_records.csv")
    req = pl.concat(tf["requests"]).sort(["t", "person_idx"])
    req.select(true_person_id=pl.Series(tpid[req["person_idx"].to_numpy()]), requested_at=iso("t"),
               counted="counted", missed="missed", first_touch_at=ts("first_touch_ms")).write_csv(truth / "requests.csv")
    col = pl.concat(tf["collisions"]).sort(["marketing_send_ms", "person_idx"])
    col.select(true_person_id=pl.Series(tpid[col["person_idx"].to_numpy()]), marketing_send_at=iso("marketing_send_ms"),
               address="address").write_csv(truth / "collisions.csv")

    daily = (pl.concat(tf["esp_daily"]).group_by("truth_domain", "day").agg(pl.all().sum())
             .rename({"truth_domain": "sending_domain"}))
    ks = _kill_switch(daily)
    ks.sort(["sending_domain", "day"]).write_csv(truth / "deliverability_daily.csv")
    first_pause = (ks.filter(pl.col("paused")).group_by("sending_domain").agg(pl.col("day").min())
                   .sort("sending_domain"))

    r = cfg.rates
    n = p.height
    n_crm_persons = int(c.filter(pl.col("kind") == "primary").height)
    kinds = dict(c.group_by("kind").len().iter_rows())
    role_users = roles.group_by("role_email").len()
    phen = {
        "identity": {
            "crm_persons": n_crm_persons,
            "duplicate_contacts": {"rate": r.dup_contact_rate,
                                   "count": sum(kinds.get(k, 0) for k in ("dup_case", "dup_plus_tag", "merged_away")),
                                   "by_kind": {k: kinds.get(k, 0) for k in ("dup_case", "dup_plus_tag", "merged_away")}},
            "personal_email": {"rate": r.personal_email_rate, "count": int(p["personal_email"].is_not_null().sum()),
                               "of": n},
            "anon_identified_later": {"rate": r.anon_identified_later_rate, **counts.get("_anon", {})},
            "multi_email_prospects": {"rate": r.multi_email_prospect_rate,
                                      "count": int((se["truth_emails"].list.len() > 1).sum()), "of": se.height},
            "role_addresses": {"rate": r.role_account_rate, "count": role_users.height,
                               "shared_by_2_or_more": int((role_users["len"] >= 2).sum())},
            "job_changers": {"rate": r.job_changer_rate, "count": int(p["is_job_changer"].sum()), "of": n},
        },
        "funnel": {"outcome_rate": float(p["outcome_opportunity_30d"].mean()),
                   "mean_oracle_propensity": float(p["propensity"].mean()),
                   "opportunities_in_window": int(p["opportunity_before_as_of"].sum()),
                   "opportunities_after_as_of_30d": int(p["outcome_opportunity_30d"].sum()),
                   "at_risk_at_as_of": int((~p["opportunity_before_as_of"]).sum()),
                   "law": {**dataclasses.asdict(cfg.law), "at_most_one_opportunity_per_person": True,
                           "see": "truth/README.md (sandbox/world/TRUTH.md)"},
                   "stages": {k: int((stage == i).sum()) for i, k in enumerate(LIFECYCLE)}},
        "follow_up": {"requests": req.height, "counted": int(req["counted"].sum()),
                      "folded": int((~req["counted"]).sum()), "missed": int(req["missed"].sum()),
                      "missed_rate_configured": r.missed_followup_rate},
        "collisions": {"campaign_sequence": {"rate": r.campaign_sequence_collision_rate, "count": col.height},
                       "double_sequence": {"rate": r.double_sequence_rate, **counts.get("_double", {})}},
        "deliverability": {"degrading_domain": vocab.MARKETING_DOMAINS[0],
                           "degrades_at": _iso_ms(degrade_ms),
                           "first_paused_day": {d: str(v) for d, v in first_pause.iter_rows()}},
        "messy_input": {
            "broken_record_rate": r.broken_record_rate, "duplicate_delivery_rate": r.duplicate_delivery_rate,
            "late_event_rate": r.late_event_rate,
            "by_source": {k[:-8]: {"records": v, "broken": counts[k[:-8] + ".broken"],
                                   "duplicates": counts[k[:-8] + ".duplicates"], "files": counts[k[:-8] + ".files"]}
                          for k, v in counts.items() if k.endswith(".records")},
        },
    }
    (truth / "phenomena.json").write_text(json.dumps(phen, indent=2, sort_keys=True) + "\n")
    crm_counts = {f.stem: sum(1 for _ in f.open()) for f in sorted((truth.parent / "crm").glob("*.jsonl"))}
    manifest = {"config": cfg.describe(), "crm": crm_counts,
                "landing": {k[:-8]: v for k, v in counts.items() if k.endswith(".records")}}
    (truth / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    shutil.copyfile(Path(__file__).with_name("TRUTH.md"), truth / "README.md")
    return manifest


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _iso_ms(ms: int) -> str:
    return pl.select(iso(pl.lit(ms, pl.Int64))).item()
