"""What people do, block by block: web and product events, inbound requests and the sales response,
sequences and mailings, calls, meetings, tasks, deals, and marketing email.

Each function works on whole arrays of a block of persons (no Python loop per event). Times are epoch ms.
The random draws for a block come from a generator seeded by (world seed, block number), so a block's
output does not depend on how many blocks came before it.

Observable behaviour follows the latent path of the day it happens on (latent.py): web sessions and intent pages
follow intent_j(d), sequence replies p30_j(d), the product sign-up day intent_j(d). Opportunities (and the meeting
before each) come from the population's arrival times, never from this activity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import vocab
from .config import WorldConfig
from .emit import iso, mix_ids
from .latent import LatentPath, draw_days, window_coverage
from .population import DAY, HOUR, MINUTE, SECOND, Population

INBOUND_SEQUENCE_ID = 101
OUTBOUND_SEQUENCE_IDS = np.arange(102, 113)


def _rep(counts: np.ndarray) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0,1,2.. within runs of equal `group` values (group must be sorted)."""
    if len(group) == 0:
        return group.astype(np.int64)
    start = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    idx = np.arange(len(group))
    return idx - np.repeat(start, np.diff(np.r_[start, len(group)]))


@dataclass
class BlockView:
    """Arrays of one block of persons, plus lookups into the population."""

    idx: np.ndarray  # global person_idx
    pop: Population
    cfg: WorldConfig

    def __post_init__(self):
        p = self.pop.persons[self.idx.tolist()] if len(self.idx) != self.pop.persons.height else self.pop.persons
        self.p = p
        self.n = p.height
        col = lambda c: p[c].to_numpy()  # noqa: E731
        # base intent; the oracle propensity (which sees the future) is never read here
        self.fit, self.intent, self.mean_p30 = col("fit"), col("intent"), col("mean_p30")
        self.opp_ms = col("opportunity_ms")
        self.opp_booked, self.opp_held = col("opp_meeting_booked_ms"), col("opp_meeting_held_ms")
        self._path: LatentPath | None = None
        self.work = np.array(p["work_email"].to_list(), dtype=object)
        self.new_work = np.array(p["new_work_email"].to_list(), dtype=object)
        self.personal = np.array(p["personal_email"].to_list(), dtype=object)
        self.personal_dotted = np.array(p["personal_email_dotted"].to_list(), dtype=object)
        self.change_ms = col("job_change_ms")
        self.changer = col("is_job_changer")
        self.owner = col("owner_id")
        self.req1, self.req2 = col("request1_ms"), col("request2_ms")
        self.in_crm = col("in_crm")
        self.web = col("is_web_visitor")
        self.u = col("u")
        self.first, self.last = np.array(p["first_name"].to_list()), np.array(p["last_name"].to_list())
        self.title = np.array(p["title"].to_list())
        acc = self.pop.accounts
        self.acct = col("account_idx")
        self.cur_acct = col("current_account_idx")
        self.domain_of = acc["domain"].to_numpy()
        self.company_of = acc["name"].to_numpy()
        self.role = self.pop.role_email[self.idx]
        self.crm_email = self.pop.crm_email[self.idx]
        self.contact_id = self.pop.contact_id[self.idx]
        self.dup_email = self.pop.dup_email[self.idx]

    @property
    def path(self) -> LatentPath:
        """This block's latent path (person x day over the window and the 30 days after as_of)."""
        if self._path is None:
            self._path = self.pop.latent(self.idx)
        return self._path

    def day_of(self, t: np.ndarray) -> np.ndarray:
        """Index of the horizon day holding time t (clipped into the horizon)."""
        return np.clip((t - self.pop.start_ms) // DAY, 0, self.cfg.horizon_days - 1)

    def work_email_at(self, j: np.ndarray, t: np.ndarray) -> np.ndarray:
        """The work address person j used at time t (a job changer switches at the change)."""
        moved = self.changer[j] & (t >= self.change_ms[j])
        return np.where(moved, self.new_work[j], self.work[j])

    def account_at(self, j: np.ndarray, t: np.ndarray) -> np.ndarray:
        moved = self.changer[j] & (t >= self.change_ms[j])
        return np.where(moved, self.cur_acct[j], self.acct[j])


def segment_events(b: BlockView, rng: np.random.Generator, start: int, end: int) -> dict:
    """Segment page/identify/track/group events, and the identifier truth they carry."""
    r = b.cfg.rates
    span = end - start
    days = b.cfg.scale.days
    gidx = b.idx
    # devices: everyone has one anonymousId, some a second
    anon = np.stack([mix_ids(gidx * 2, 11), mix_ids(gidx * 2 + 1, 11)], axis=1)
    two_dev = rng.random(b.n) < 0.3
    user_id = np.char.add("usr_", (gidx + 7_000_001).astype(str))

    law = b.cfg.law
    intent_d = b.path.intent[:, :days]  # intent_j(d) over the window
    # product sign-up (gives a userId); the product address is free-mail for most people who have one. The rate
    # follows the mean p30 over the window, the day intent on that day (in the first 95% of the window, as before)
    signup = b.web & (rng.random(b.n) < law.signup_base + law.signup_p30_coef * b.mean_p30)
    cov = window_coverage(days, 0.95)
    su_day = draw_days(intent_d * cov, np.arange(b.n), rng.random(b.n))
    su_t = start + ((su_day + rng.random(b.n) * cov[su_day]) * DAY).astype(np.int64)
    signup_ms = np.where(signup, su_t, -1)
    use_personal = signup & (b.personal != None) & (rng.random(b.n) < 0.7)  # noqa: E711
    # half of the gmail users typed their address with a dot in the product
    dotted = np.where(b.u < 0.5, b.personal_dotted, b.personal)
    product_email_kind = np.where(use_personal, "personal", "work")

    # when each person first becomes known to Segment: sign-up, a form, or (some) a newsletter form
    first_req = np.where(b.req1 > 0, b.req1, np.iinfo(np.int64).max)
    later = b.web & ~signup & (b.req1 < 0) & (rng.random(b.n) < r.anon_identified_later_rate)
    later_ms = np.where(later, start + (rng.random(b.n) * span).astype(np.int64), np.iinfo(np.int64).max)
    ident_ms = np.minimum(np.minimum(np.where(signup, signup_ms, np.iinfo(np.int64).max), first_req), later_ms)

    # web sessions and page views: sessions arrive day by day at a rate following that day's intent
    sess_rate = law.web_session_scale * (law.web_session_base + law.web_session_intent_coef * intent_d) / 30
    n_sess = np.where(b.web, rng.poisson(sess_rate.sum(axis=1)), 0)
    sj = _rep(n_sess)
    s_day = draw_days(sess_rate, sj, rng.random(len(sj)))
    s_t = start + ((s_day + rng.random(len(sj))) * DAY).astype(np.int64)
    s_intent = intent_d[sj, s_day]
    s_dev = np.where(two_dev[sj] & (rng.random(len(sj)) < 0.4), 1, 0)
    n_pages = 1 + rng.poisson(1 + 2 * s_intent)
    pj = _rep(n_pages)
    pp = sj[pj]
    p_t = s_t[pj] + _rank_within(pj) * rng.integers(10 * SECOND, 120 * SECOND, len(pj))
    intent_page = rng.random(len(pj)) < law.intent_page_base + law.intent_page_coef * s_intent[pj]
    path = np.where(
        intent_page,
        np.array(vocab.INTENT_PAGES)[rng.choice(len(vocab.INTENT_PAGES), len(pj), p=vocab.INTENT_PAGE_WEIGHTS)],
        np.array(vocab.BROWSE_PAGES)[rng.choice(len(vocab.BROWSE_PAGES), len(pj), p=vocab.BROWSE_PAGE_WEIGHTS)],
    )
    pages = pl.DataFrame({
        "j": pp, "t": p_t, "type": "page", "dev": s_dev[pj], "event": None, "path": path,
    }, schema_overrides={"event": pl.String})

    # identify calls: at identification, on each device the person used; job changers re-identify
    idj = np.flatnonzero(ident_ms < np.iinfo(np.int64).max)
    id_rows = [pl.DataFrame({"j": idj, "t": ident_ms[idj] - SECOND, "dev": 0, "kind": "first"})]
    d2 = idj[two_dev[idj]]
    id_rows.append(pl.DataFrame({"j": d2, "t": ident_ms[d2] + rng.integers(HOUR, 10 * DAY, len(d2)), "dev": 1, "kind": "device2"}))
    ch = np.flatnonzero(signup & b.changer & (b.change_ms > signup_ms) & ~use_personal)
    id_rows.append(pl.DataFrame({"j": ch, "t": b.change_ms[ch] + rng.integers(HOUR, 5 * DAY, len(ch)), "dev": 0, "kind": "job_change"}))
    ids = pl.concat(id_rows).with_columns(type=pl.lit("identify"), event=pl.lit(None, pl.String), path=pl.lit(None, pl.String))

    # inbound requests: identify (anonymousId + traits.email) then the form's track event
    rj = np.concatenate([np.flatnonzero(b.req1 > 0), np.flatnonzero(b.req2 > 0)])
    rt = np.concatenate([b.req1[b.req1 > 0], b.req2[b.req2 > 0]])
    rkind = np.array(vocab.REQUEST_EVENTS)[(rng.random(len(rj)) < 0.3).astype(int)]
    requests = pl.DataFrame({"j": rj, "t": rt, "type": "track", "dev": 0, "event": rkind, "path": "/demo"})
    # product events after sign-up
    prod = [pl.DataFrame({"j": np.flatnonzero(signup), "t": signup_ms[signup], "event": "Signed Up"})]
    last_t = signup_ms.copy()
    reached = signup.copy()  # each product step needs the one before it
    for ev, base_p in zip(vocab.PRODUCT_EVENTS[1:], [0.8, 0.7, 0.3, 0.25]):
        reached = reached & (rng.random(b.n) < np.clip(base_p + law.product_step_p30_coef * b.mean_p30, 0, 1))
        last_t = np.where(reached, last_t + rng.integers(5 * MINUTE, 3 * DAY, b.n), last_t)
        prod.append(pl.DataFrame({"j": np.flatnonzero(reached), "t": last_t[reached], "event": ev}))
    product = pl.concat(prod).with_columns(type=pl.lit("track"), dev=pl.lit(0), path=pl.lit(None, pl.String))
    # group calls tie the workspace to the company (the fuzzy identity rule's company domain)
    ws = product.filter(pl.col("event") == "Workspace Created").select("j", "t").with_columns(
        t=pl.col("t") + SECOND, type=pl.lit("group"), dev=pl.lit(0), event=pl.lit(None, pl.String), path=pl.lit(None, pl.String))

    ev = pl.concat([
        pages.with_columns(kind=pl.lit(None, pl.String)),
        ids.select("j", "t", "type", "dev", "event", "path", "kind"),
        requests.with_columns(kind=pl.lit("request")),
        requests.with_columns(type=pl.lit("identify"), t=pl.col("t") - 2 * SECOND, event=pl.lit(None, pl.String), kind=pl.lit("form")),
        product.select("j", "t", "type", "dev", "event", "path").with_columns(kind=pl.lit(None, pl.String)),
        ws.select("j", "t", "type", "dev", "event", "path").with_columns(kind=pl.lit(None, pl.String)),
    ], how="vertical_relaxed").filter((pl.col("t") >= start) & (pl.col("t") < end))
    ev = ev.sort(["t", "j", "type"])
    j = ev["j"].to_numpy()
    t = ev["t"].to_numpy()
    typ = ev["type"].to_numpy()
    kind = np.array(ev["kind"].to_list(), dtype=object)
    known_user = signup_ms[j] >= 0
    uid = np.where(known_user & (signup_ms[j] >= 0) & (t >= signup_ms[j]), user_id[j], None)
    # the address a person typed: role mailbox sometimes, personal sometimes, else work (as of that time)
    pick = rng.random(len(j))
    work_now = b.work_email_at(j, t)
    form_email = np.where((b.role[j] != None) & (pick < 0.4), b.role[j],  # noqa: E711
                          np.where((b.personal[j] != None) & (pick > 0.8), b.personal[j], work_now))  # noqa: E711
    product_email = np.where(product_email_kind[j] == "personal", dotted[j], work_now)
    trait_email = np.where(np.isin(kind, ["form", "request"]), form_email,
                           np.where(uid != None, product_email,  # noqa: E711
                                    np.where(kind != None, work_now, None)))  # noqa: E711
    trait_email = np.where((typ == "identify") | (kind == "request"), trait_email, None)
    # a form fill's identify carries anonymousId + traits.email alone (docs/identity.md)
    uid = np.where(kind == "form", None, uid)
    seq = np.arange(len(j))
    late = rng.random(len(j)) < r.late_event_rate
    arrival = t + np.where(late, rng.integers(DAY, 3 * DAY, len(j)), rng.integers(50, 5 * SECOND, len(j)))
    acct_now = b.account_at(j, t)
    # string columns are gathered and formatted in polars: building them as numpy strings cost seconds at M
    people = b.p.select("first_name", "last_name")
    accounts = b.pop.accounts.select("name", "domain")
    dev = ev["dev"].to_numpy()
    df = pl.DataFrame({
        "type": ev["type"], "userId": pl.Series(uid.tolist(), dtype=pl.String),
        "t": t, "arrival_ms": arrival, "event": ev["event"], "path": ev["path"],
        "email": pl.Series(trait_email.tolist(), dtype=pl.String),
        "order": seq, "truth_person_idx": gidx[j], "truth_account_idx": acct_now,
    }).with_columns(
        messageId="ajs-" + pl.Series(mix_ids(seq, int(gidx[0]) * 7919 + 1)).cast(pl.String),
        anonymousId="anon-" + pl.Series(anon[j, dev]).cast(pl.String),
        first=people["first_name"].gather(j), last=people["last_name"].gather(j),
        company=accounts["name"].gather(acct_now), domain=accounts["domain"].gather(acct_now),
        workspace="ws_" + pl.Series(gidx[j] + 500_000).cast(pl.String),
    )
    ts = [
        iso("t").alias("timestamp"),
        iso(pl.col("arrival_ms")).alias("receivedAt"),
        iso(pl.col("t") + 120).alias("sentAt"),
        iso("t").alias("originalTimestamp"),
    ]
    ctx = pl.struct(
        pl.lit("1.2.3.4").alias("ip"),
        pl.lit("Mozilla/5.0 (X11; Linux x86_64)").alias("userAgent"),
        pl.struct(pl.col("path"), (pl.lit("https://www.northwind.io") + pl.col("path")).alias("url")).alias("page"),
    ).alias("context")
    head = [pl.col("messageId"), pl.col("type"), pl.col("anonymousId"), pl.col("userId"), *ts]
    enc = {
        "page": pl.struct(*head, pl.col("path").alias("name"),
                          pl.struct(pl.col("path"), (pl.lit("https://www.northwind.io") + pl.col("path")).alias("url"),
                                    pl.lit("").alias("referrer")).alias("properties"), ctx),
        "identify": pl.struct(*head, pl.struct(pl.col("email"), pl.col("first").alias("firstName"),
                                               pl.col("last").alias("lastName")).alias("traits"), ctx),
        "track": pl.struct(*head, pl.col("event"),
                           pl.struct(pl.col("email"), pl.when(pl.col("email").is_not_null()).then(pl.lit("website_form")).alias("source")).alias("properties"), ctx),
        "group": pl.struct(*head, pl.col("workspace").alias("groupId"),
                           pl.struct(pl.col("company").alias("name"), pl.col("domain"),
                                     (pl.lit("https://www.") + pl.col("domain")).alias("website")).alias("traits"), ctx),
    }
    json = pl.when(pl.col("type") == "page").then(enc["page"].struct.json_encode())
    for k in ("identify", "track", "group"):
        json = json.when(pl.col("type") == k).then(enc[k].struct.json_encode())
    out = df.with_columns(json=json)
    pj_all = pages["j"].to_numpy()
    anon_pages = np.unique(pj_all[pages["t"].to_numpy() < ident_ms[pj_all]])
    stats = {"web_visitors_with_anonymous_pages": int(len(anon_pages)),
             "identified_later": int((ident_ms[anon_pages] < end).sum())}
    return {
        "stats": stats,
        "events": out.select("json", "arrival_ms", "order", "truth_person_idx", "t", "type", "event",
                             "messageId", "anonymousId", "userId", "email", "truth_account_idx"),
        "signup_ms": signup_ms,
    }


def _lognormal_ms(rng, median_ms: float, sigma: float, n: int) -> np.ndarray:
    return np.exp(rng.normal(np.log(median_ms), sigma, n)).astype(np.int64)


def sales_activity(b: BlockView, rng: np.random.Generator, start: int, end: int, n_owners: int) -> dict:
    """The sales team's work on this block: the response to inbound requests, sequences and mailings, calls,
    meetings, follow-up tasks and deals."""
    r = b.cfg.rates
    # ---- inbound requests and the speed-to-lead response
    rj = np.concatenate([np.flatnonzero(b.req1 > 0), np.flatnonzero(b.req2 > 0)])
    rt = np.concatenate([b.req1[b.req1 > 0], b.req2[b.req2 > 0]])
    is_second = np.r_[np.zeros((b.req1 > 0).sum(), bool), np.ones((b.req2 > 0).sum(), bool)]
    folded = is_second & (rt - b.req1[rj] < DAY)
    counted = ~folded
    missed = counted & (rng.random(len(rj)) < r.missed_followup_rate)
    # most of the team answers in minutes to hours; a long tail answers in days (median 25 min)
    lat = _lognormal_ms(rng, 25 * MINUTE, 1.7, len(rj))
    respond = counted & ~missed & (lat < 7 * DAY)
    touch_t = rt + lat
    respond &= touch_t < end
    by_call = rng.random(len(rj)) < 0.45

    # ---- sequence enrollments: inbound follow-up (sequence 101) and outbound prospecting
    inb = respond & ~by_call
    outb = b.in_crm & (b.req1 < 0) & (rng.random(b.n) < 0.08 + 0.35 * b.fit)
    o_j = np.flatnonzero(outb)
    o_t = start + (rng.random(len(o_j)) * (end - start - 3 * DAY)).astype(np.int64)
    o_seq = OUTBOUND_SEQUENCE_IDS[rng.integers(0, len(OUTBOUND_SEQUENCE_IDS), len(o_j))]
    dbl = rng.random(len(o_j)) < r.double_sequence_rate
    d_j = o_j[dbl]
    d_t = o_t[dbl] + rng.integers(HOUR, 4 * DAY, dbl.sum())
    d_seq = OUTBOUND_SEQUENCE_IDS[(np.searchsorted(OUTBOUND_SEQUENCE_IDS, o_seq[dbl]) + 1) % len(OUTBOUND_SEQUENCE_IDS)]
    owner = b.owner
    other_owner = lambda o: 70_000_001 + (o - 70_000_001 + 1) % n_owners  # noqa: E731  (a colleague)
    states = pl.DataFrame({
        "j": np.r_[rj[inb], o_j, d_j],
        "created": np.r_[touch_t[inb] - 30 * SECOND, o_t, d_t],
        "sequence_id": np.r_[np.full(inb.sum(), INBOUND_SEQUENCE_ID), o_seq, d_seq],
        "owner_id": np.r_[owner[rj[inb]], owner[o_j], other_owner(owner[d_j])],
        "kind": np.r_[np.full(inb.sum(), "inbound"), np.full(len(o_j), "outbound"), np.full(len(d_j), "double")],
        "request_row": np.r_[np.flatnonzero(inb), np.full(len(o_j) + len(d_j), -1)],
    }).filter(pl.col("created") < end).sort(["created", "j"])
    states = states.with_columns(state_id=pl.int_range(pl.len(), dtype=pl.Int64))

    # ---- mailings: steps 2-4 days apart until a reply, an unsubscribe or a bounce stops the sequence
    n_steps = np.where(states["kind"].to_numpy() == "inbound", 3, rng.integers(3, 6, states.height))
    si = _rep(n_steps)
    step = _rank_within(si)
    sj = states["j"].to_numpy()[si]
    gap = np.where(step == 0, 30 * SECOND, rng.integers(2 * DAY, 4 * DAY, len(si)))
    st = states["created"].to_numpy()[si] + pl.DataFrame({"si": si, "gap": gap}).select(
        pl.col("gap").cum_sum().over("si")).to_series().to_numpy()
    bounced = rng.random(len(si)) < 0.01
    # a reply follows p30 on the step's day
    law = b.cfg.law
    p30_step = b.path.p30[sj, b.day_of(st)] if len(si) else np.zeros(0)
    replied = ~bounced & (rng.random(len(si)) < law.reply_base + law.reply_p30_coef * p30_step)
    unsub = ~bounced & ~replied & (rng.random(len(si)) < 0.005)
    spam = ~bounced & ~replied & (rng.random(len(si)) < 0.001)
    stop = (bounced | replied | unsub | spam).astype(np.int64)
    m = pl.DataFrame({"si": si, "step": step, "t": st, "stop": stop}).with_columns(
        before=pl.col("stop").cum_sum().over("si") - pl.col("stop"))
    keep = (m["before"].to_numpy() == 0) & (st < end)
    opened = ~bounced & (rng.random(len(si)) < 0.45)
    open_t = st + _lognormal_ms(rng, 5 * HOUR, 1.0, len(si))
    clicked = opened & (rng.random(len(si)) < 0.15)
    reply_t = st + _lognormal_ms(rng, 20 * HOUR, 0.8, len(si))
    st_sid = states["state_id"].to_numpy()[si]
    st_seq = states["sequence_id"].to_numpy()[si]
    st_own = states["owner_id"].to_numpy()[si]
    nan = np.int64(-1)
    mail = pl.DataFrame({
        "j": sj, "state_id": st_sid, "sequence_id": st_seq, "step": step + 1, "owner_id": st_own,
        "delivered": np.where(bounced, nan, st), "bounced": np.where(bounced, st, nan),
        "opened": np.where(opened | replied, np.minimum(open_t, reply_t), nan),
        "clicked": np.where(clicked, open_t + 5 * MINUTE, nan),
        "replied": np.where(replied, reply_t, nan),
        "spam": np.where(spam, st + 3 * HOUR, nan), "unsub": np.where(unsub, st + 2 * HOUR, nan),
    }).filter(pl.Series(keep))
    # a later event that has not happened by the world's end is not known yet
    for c in ("opened", "clicked", "replied", "spam", "unsub"):
        mail = mail.with_columns(pl.when(pl.col(c) < end).then(pl.col(c)).otherwise(nan).alias(c))
    mail = mail.sort(["state_id", "step"]).with_columns(mailing_seq=pl.int_range(pl.len(), dtype=pl.Int64))
    # a response mailing that bounced touched nobody (docs/kpis.md: a touch is a delivered mailing): missed
    bounced_first = mail.filter((pl.col("step") == 1) & (pl.col("delivered") < 0)).join(
        states.filter(pl.col("request_row") >= 0), on="state_id")["request_row"].to_numpy()
    respond[bounced_first] = False
    requests = pl.DataFrame({"j": rj, "t": rt, "counted": counted, "missed": counted & ~respond,
                             "first_touch_ms": np.where(respond, touch_t, -1)})

    # ---- calls: the inbound response by phone, prospecting calls beside sequences, follow-ups
    call_rows = [pl.DataFrame({"j": rj[respond & by_call], "t": touch_t[respond & by_call], "kind": "speed_to_lead"})]
    pc = o_j[rng.random(len(o_j)) < 0.25]
    call_rows.append(pl.DataFrame({"j": pc, "t": start + (rng.random(len(pc)) * (end - start)).astype(np.int64), "kind": "prospecting"}))
    # a missed request sometimes gets a late call, after the 7-day window
    late_call = requests.filter(pl.col("missed") & (pl.Series(rng.random(len(rj))) < 0.3))
    call_rows.append(late_call.select("j", t=pl.col("t") + pl.Series(rng.integers(8 * DAY, 12 * DAY, late_call.height)), kind=pl.lit("late")))

    # ---- meetings: one before every opportunity (booked 2-9 days, held 1 h - 2 days before it, completed), and
    # meetings from conversations (replies, answered inbound requests) at a rate that does not depend on the person,
    # which never lead to a deal. Meetings and replies need a follow-up.
    replies = mail.filter(pl.col("replied") > 0).select("j", t="replied")
    conv = pl.concat([replies.with_columns(src=pl.lit("reply")),
                      requests.filter(pl.col("first_touch_ms") > 0).select("j", t="first_touch_ms").with_columns(src=pl.lit("inbound"))])
    cj = conv["j"].to_numpy()
    booked = rng.random(conv.height) < b.cfg.law.conversation_meeting_rate
    meet_created = conv["t"].to_numpy() + rng.integers(HOUR, 2 * DAY, conv.height)
    meet_at = meet_created + rng.integers(DAY, 7 * DAY, conv.height)
    conv_meet = pl.DataFrame({"j": cj, "created": meet_created, "at": meet_at}).filter(
        pl.Series(booked) & (pl.col("created") < end))
    mo = rng.random(conv_meet.height)
    conv_meet = conv_meet.with_columns(outcome=pl.when(pl.col("at") >= end).then(pl.lit("SCHEDULED"))
                                       .when(pl.Series(mo) < 0.12).then(pl.lit("NO_SHOW")).otherwise(pl.lit("COMPLETED")))
    # an opportunity a few days after as_of has its meeting booked already: emitted, still SCHEDULED
    oj = np.flatnonzero((b.opp_ms > 0) & (b.opp_booked < end))
    opp_meet = pl.DataFrame({"j": oj, "created": b.opp_booked[oj], "at": b.opp_held[oj]}).with_columns(
        outcome=pl.when(pl.col("at") >= end).then(pl.lit("SCHEDULED")).otherwise(pl.lit("COMPLETED")))
    meetings = pl.concat([conv_meet, opp_meet])
    # follow-up: after a reply, and after a held meeting; a share is never followed up (missed follow-up)
    fu = pl.concat([replies.with_columns(src=pl.lit("reply")),
                    meetings.filter(pl.col("outcome") != "SCHEDULED").select("j", t="at").with_columns(src=pl.lit("meeting"))])
    done = rng.random(fu.height) >= r.reply_followup_missed_rate
    fu_t = fu["t"].to_numpy() + _lognormal_ms(rng, 4 * HOUR, 1.2, fu.height)
    fu = fu.with_columns(followed=pl.Series(done & (fu_t < end)), touch_t=pl.Series(fu_t))
    call_rows.append(fu.filter("followed").select("j", t="touch_t").with_columns(kind=pl.lit("follow_up")))
    calls = pl.concat(call_rows).filter(pl.col("t") < end)
    calls = calls.with_columns(owner_id=pl.Series(owner[calls["j"].to_numpy()]),
                               direction=pl.lit("OUTBOUND"))
    tasks = fu.select("j", due=pl.col("t") + DAY, done="followed",
                      subject=pl.when(pl.col("src") == "reply").then(pl.lit("Reply to email"))
                      .otherwise(pl.lit("Send meeting recap and next steps"))).filter(pl.col("due") - DAY < end)
    tasks = tasks.with_columns(owner_id=pl.Series(owner[tasks["j"].to_numpy()]))

    # ---- deals: every opportunity of the law (at most one per person) before as_of; old enough ones have closed
    dj = np.flatnonzero((b.opp_ms > 0) & (b.opp_ms < end))
    d_created = b.opp_ms[dj]
    cycle = rng.integers(14 * DAY, 60 * DAY, len(dj))
    won = rng.random(len(dj)) < 0.3 + 0.4 * b.fit[dj]
    closed = d_created + cycle < end
    open_stage = np.array(["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin",
                           "contractsent"])[rng.integers(0, 5, len(dj))]
    emp = b.pop.accounts["employees"].to_numpy()[b.account_at(dj, d_created)] if len(dj) else np.array([], np.int64)
    amount = np.round(np.exp(rng.normal(np.log(2_000 + 40 * np.sqrt(emp) * 100), 0.5)), -2)
    deals = pl.DataFrame({
        "j": dj, "created": d_created, "closedate": np.where(closed, d_created + cycle, d_created + cycle),
        "stage": np.where(closed, np.where(won, "closedwon", "closedlost"), open_stage), "amount": amount,
        "account_idx": b.account_at(dj, d_created),
    })
    deals = deals.with_columns(owner_id=pl.Series(owner[deals["j"].to_numpy()]))
    return {"requests": requests, "states": states, "mailings": mail, "calls": calls, "meetings": meetings,
            "tasks": tasks, "deals": deals}


def esp_sends(b: BlockView, rng: np.random.Generator, start: int, end: int, campaigns: pl.DataFrame,
              mailings: pl.DataFrame) -> pl.DataFrame:
    """Marketing sends for this block: campaigns, a daily nurture stream, and triggered sends that collide
    with sales sequences. One row per (recipient address, send)."""
    r = b.cfg.rates
    optout = b.u < 0.02
    eligible = (b.crm_email != None) & ~optout  # noqa: E711
    newsletter = (b.personal != None) & ~b.in_crm & (b.u > 0.02) & (b.u < 0.32)  # noqa: E711
    addr = np.where(eligible, b.crm_email, np.where(newsletter, b.personal, None))
    # the marketing list was built from both records of a duplicated contact: some sends go to the variant
    addr = np.where((b.dup_email != None) & (rng.random(b.n) < 0.5), b.dup_email, addr)  # noqa: E711
    listed = np.flatnonzero(addr != None)  # noqa: E711
    rows = []
    for c in campaigns.iter_rows(named=True):  # a few dozen campaigns; each vectorized over recipients
        share = c["audience_share"]
        pick = listed[rng.random(len(listed)) < share]
        t = c["send_ms"] + rng.integers(0, c["spread_ms"], len(pick))
        rows.append(pl.DataFrame({"j": pick, "t": t, "address": addr[pick].astype(str), "campaign_id": c["campaign_id"],
                                  "domain": c["sending_domain"], "category": c["category"], "trigger": False,
                                  "role": False}))
        # role mailboxes are on the list once, whoever reads them
        rp = np.flatnonzero((b.role != None) & (rng.random(b.n) < share))  # noqa: E711
        rows.append(pl.DataFrame({"j": rp, "t": c["send_ms"] + rng.integers(0, c["spread_ms"], len(rp)),
                                  "address": b.role[rp].astype(str), "campaign_id": c["campaign_id"],
                                  "domain": c["sending_domain"], "category": c["category"], "trigger": False,
                                  "role": True}))
    # a triggered nurture email lands within 24 h of a sales step for a share of sequenced people
    first_mail = mailings.filter(pl.col("delivered") > 0).unique("state_id", keep="first", maintain_order=True)
    hit = rng.random(first_mail.height) < r.campaign_sequence_collision_rate
    fm = first_mail.filter(pl.Series(hit))
    fj = fm["j"].to_numpy()
    fa = np.where(b.crm_email[fj] != None, b.crm_email[fj], b.work[fj])  # noqa: E711
    rows.append(pl.DataFrame({"j": fj, "t": fm["delivered"].to_numpy() + rng.integers(HOUR, 20 * HOUR, len(fj)),
                              "address": fa.astype(str), "campaign_id": "cmp_trigger_nurture",
                              "domain": vocab.MARKETING_DOMAINS[2], "category": "nurture", "trigger": True,
                              "role": False}))
    # `role` rows go to a shared mailbox: the truth keeps such an address shared, not one person's
    return pl.concat(rows, how="vertical_relaxed").filter(pl.col("t") < end)


def esp_events(b: BlockView, rng: np.random.Generator, sends: pl.DataFrame, degrade_ms: int, end: int,
               salt: int) -> pl.DataFrame:
    """The SendGrid event stream of each send: processed, then delivered | bounce | dropped (+deferred), and
    open, click, unsubscribe, spamreport. The degrading domain bounces and gets complaints from its date on."""
    r = b.cfg.rates
    n = sends.height
    t = sends["t"].to_numpy()
    bad = (sends["domain"].to_numpy() == vocab.MARKETING_DOMAINS[0]) & (t >= degrade_ms)
    p_bounce = np.where(bad, r.degraded_bounce_rate, r.base_bounce_rate)
    p_spam = np.where(bad, r.degraded_complaint_rate, r.base_complaint_rate)
    u = rng.random(n)
    dropped = u < 0.003
    bounced = ~dropped & (u < 0.003 + p_bounce)
    delivered = ~dropped & ~bounced
    deferred = delivered & (rng.random(n) < 0.02)
    deliver_t = t + np.where(deferred, rng.integers(10 * MINUTE, 2 * HOUR, n), rng.integers(SECOND, 60 * SECOND, n))
    opened = delivered & (rng.random(n) < 0.25)
    open_t = deliver_t + _lognormal_ms(rng, 6 * HOUR, 1.0, n)
    clicked = opened & (rng.random(n) < 0.3)
    unsub = delivered & (rng.random(n) < 0.003)
    spam = delivered & (rng.random(n) < p_spam)
    # unsubscribing from one suppression group (newsletter, nurture), and a few coming back
    group_unsub = delivered & ~unsub & (rng.random(n) < 0.002)
    group_resub = group_unsub & (rng.random(n) < 0.2)
    blocked = rng.random(n) < 0.2
    send_id = np.arange(n)
    parts = [
        (np.ones(n, bool), t, "processed"),
        (deferred, t + 10 * SECOND, "deferred"),
        (delivered, deliver_t, "delivered"),
        (bounced, t + rng.integers(SECOND, 30 * SECOND, n), "bounce"),
        (dropped, t + SECOND, "dropped"),
        (opened, open_t, "open"),
        (clicked, open_t + rng.integers(10 * SECOND, HOUR, n), "click"),
        (unsub, open_t + 2 * MINUTE, "unsubscribe"),
        (spam, deliver_t + rng.integers(HOUR, DAY, n), "spamreport"),
        (group_unsub, deliver_t + rng.integers(MINUTE, DAY, n), "group_unsubscribe"),
        (group_resub, deliver_t + rng.integers(2 * DAY, 10 * DAY, n), "group_resubscribe"),
    ]
    sid = np.concatenate([send_id[m] for m, _, _ in parts])
    et = np.concatenate([tt[m] for m, tt, _ in parts])
    en = np.concatenate([np.full(m.sum(), name) for m, _, name in parts])
    ev = pl.DataFrame({"sid": sid, "t": et, "event": en}).filter(pl.col("t") < end).sort(["t", "sid", "event"])
    sid = ev["sid"].to_numpy()
    k = ev.height
    late = rng.random(k) < r.late_event_rate
    arrival = ev["t"].to_numpy() + np.where(late, rng.integers(DAY, 2 * DAY, k), rng.integers(SECOND, 10 * MINUTE, k))
    s = sends
    df = pl.DataFrame({
        "timestamp": ev["t"].to_numpy() // 1000, "event": ev["event"],
        "bounce_type": np.where(blocked[sid], "blocked", "bounce"),
        "arrival_ms": arrival, "order": np.arange(k), "t": ev["t"],
        "truth_person_idx": b.idx[s["j"].to_numpy()[sid]], "truth_role": s["role"].to_numpy()[sid],
        "truth_trigger": s["trigger"].to_numpy()[sid],
    }).with_columns(
        sg_event_id="sgev_" + pl.Series(mix_ids(np.arange(k), salt + 17)).cast(pl.String),
        sg_message_id=pl.Series(mix_ids(send_id, salt)).gather(sid).cast(pl.String) + ".filter0001.sendgrid.net",
        email=s["address"].gather(sid), campaign_id=s["campaign_id"].gather(sid),
        sending_domain=s["domain"].gather(sid), category=s["category"].gather(sid),
    )
    is_b = pl.col("event") == "bounce"
    rec = pl.struct(
        "sg_event_id", "email", "timestamp", "event", "sg_message_id",
        (pl.lit("<") + pl.col("sg_message_id").str.slice(0, 16) + pl.lit("@ismtpd0001p1mdw1.sendgrid.net>")).alias("smtp-id"),
        pl.concat_list(pl.col("category")).alias("category"),
        pl.when(is_b).then(pl.col("bounce_type")).alias("type"),
        pl.when(is_b).then(pl.when(pl.col("bounce_type") == "bounce")
                           .then(pl.lit("550 5.1.1 The email account that you tried to reach does not exist."))
                           .otherwise(pl.lit("554 5.7.1 Message blocked by the receiving server"))).alias("reason"),
        pl.when(is_b).then(pl.when(pl.col("bounce_type") == "bounce").then(pl.lit("5.1.1")).otherwise(pl.lit("5.7.1"))).alias("status"),
        "campaign_id", "sending_domain",
    )
    # SendGrid sends bounce fields on bounce events only
    return df.with_columns(json=rec.struct.json_encode().str.replace(',"type":null,"reason":null,"status":null', "", literal=True))
