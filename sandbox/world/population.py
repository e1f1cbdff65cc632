"""Who exists in the world: owners, accounts, persons, and the CRM contacts/companies that describe them.

Everything is drawn in whole-population numpy arrays from one seeded generator, so the same seed gives the
same world. Person-level journey facts that decide CRM ids (when a person first asks for a demo, when a
champion changes jobs, when sales books the meeting before a person's opportunity) are drawn here too, because
CRM contact ids must grow with `createdate` across the whole world (docs/identity.md: the smallest contact id is
a cluster's oldest contact).

The opportunity law (latent.py, TRUTH.md) is drawn here as well: each person's buying episodes, the latent
noise, and from the latent path (built slice by slice) their one opportunity time, the oracle propensity and the
mean p30 over the window that sets their request rate.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import polars as pl

from . import vocab
from .config import WorldConfig
from .latent import Episodes, LatentPath, draw_days, draw_episodes, first_arrival_day, latent_path, window_coverage

SECOND = np.int64(1_000)  # timestamps are epoch milliseconds (int64) throughout the generator
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

OWNER_ID_BASE = 70_000_001
CONTACT_ID_BASE = 100_001
COMPANY_ID_BASE = 5_000_001


def epoch_ms(ts) -> np.int64:
    return np.int64(int(ts.timestamp() * 1000))


def ascii_fold(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()


def dedupe_locals(local: pl.Series, domain: pl.Series) -> pl.Series:
    """Make `local@domain` unique by numbering repeats (second john.smith@x becomes john.smith2@x)."""
    df = pl.DataFrame({"local": local, "domain": domain}).with_row_index("i")
    df = df.with_columns(n=pl.int_range(pl.len()).over(["local", "domain"], order_by="i"))
    return df.select(
        pl.when(pl.col("n") == 0)
        .then(pl.col("local"))
        .otherwise(pl.col("local") + (pl.col("n") + 1).cast(pl.String))
        + "@"
        + pl.col("domain")
    ).to_series()


@dataclass
class Population:
    owners: pl.DataFrame
    accounts: pl.DataFrame
    persons: pl.DataFrame
    contacts: pl.DataFrame  # one row per CRM contact record (incl. duplicates and archived merged-away ones)
    role_addresses: pl.DataFrame  # role mailbox -> account, and the persons who use it
    start_ms: int
    end_ms: int
    # per person_idx lookups (None / -1 where absent), built once so blocks only slice them
    crm_email: np.ndarray = None  # the primary contact's email (what marketing lists hold)
    contact_id: np.ndarray = None
    dup_email: np.ndarray = None  # a live duplicate contact's email variant
    role_email: np.ndarray = None
    # the latent law: buying episodes and the per-person hazard noise (latent.py)
    episodes: Episodes = None
    eps: np.ndarray = None
    cfg: WorldConfig = None

    def latent(self, idx: np.ndarray) -> LatentPath:
        """The latent path (intent, p30, hazard per day over the window and the 30 days after as_of) of persons
        idx: rebuilt from the stored episodes, the same whichever slice asks."""
        p = self.persons
        return latent_path(self.cfg.law, idx, p["intent"].to_numpy(), p["fit"].to_numpy(), self.eps, self.episodes,
                           self.cfg.horizon_days)

    def __post_init__(self):
        n = self.persons.height

        def per_person(frame: pl.DataFrame, col: str, fill, dtype=object) -> np.ndarray:
            arr = np.full(n, fill, dtype=dtype)
            arr[frame["person_idx"].to_numpy()] = frame[col].to_numpy()
            return arr

        c = self.contacts
        primary = c.filter(pl.col("kind") == "primary")
        self.crm_email = per_person(primary, "email", None)
        self.contact_id = per_person(primary, "contact_id", -1, np.int64)
        self.dup_email = per_person(c.filter(pl.col("kind").is_in(["dup_case", "dup_plus_tag"])), "email", None)
        self.role_email = per_person(self.role_addresses, "role_email", None)


def build_population(cfg: WorldConfig, rng: np.random.Generator) -> Population:
    r = cfg.rates
    start, end = epoch_ms(cfg.start), epoch_ms(cfg.as_of)
    span = end - start
    n_acc, n_per = cfg.scale.accounts, cfg.scale.persons

    # ---- owners: one per ~1,250 persons, at least 8, spread over territories
    n_own = max(8, n_per // 1_250)
    own_terr = rng.choice(3, size=n_own, p=vocab.TERRITORY_WEIGHTS)
    own_terr[:3] = [0, 1, 2]  # every territory has someone
    of = rng.integers(0, len(vocab.FIRST_NAMES), n_own)
    ol = rng.integers(0, len(vocab.LAST_NAMES), n_own)
    owners = pl.DataFrame(
        {
            "owner_id": np.arange(OWNER_ID_BASE, OWNER_ID_BASE + n_own, dtype=np.int64),
            "first_name": np.array(vocab.FIRST_NAMES)[of],
            "last_name": np.array(vocab.LAST_NAMES)[ol],
            "territory": np.array(vocab.TERRITORIES)[own_terr],
            "territory_idx": own_terr,
            "created_ms": start - rng.integers(30, 700, n_own) * DAY,
        }
    )
    owners = owners.with_columns(
        email=dedupe_locals(
            (owners["first_name"] + "." + owners["last_name"]).str.to_lowercase(),
            pl.Series([vocab.SALES_DOMAINS[0]] * n_own),
        )
    )

    # ---- accounts
    codes = rng.choice(len(vocab.SYLLABLES) ** 3, size=n_acc, replace=False)
    s = len(vocab.SYLLABLES)
    syl = np.array(vocab.SYLLABLES)
    stem = np.char.add(np.char.add(syl[codes // (s * s)], syl[(codes // s) % s]), syl[codes % s])
    tld = np.array(vocab.TLDS)[rng.choice(len(vocab.TLDS), n_acc, p=[0.55, 0.15, 0.1, 0.08, 0.07, 0.05])]
    suffix = np.array(vocab.COMPANY_SUFFIXES)[rng.integers(0, len(vocab.COMPANY_SUFFIXES), n_acc)]
    employees = np.clip(np.round(np.exp(rng.normal(4.6, 1.4, n_acc))), 2, 200_000).astype(np.int64)
    industry = rng.choice(len(vocab.INDUSTRIES), n_acc, p=[0.2, 0.1, 0.1, 0.12, 0.1, 0.08, 0.08, 0.08, 0.07, 0.07])
    terr = rng.choice(3, n_acc, p=vocab.TERRITORY_WEIGHTS)
    country = np.empty(n_acc, dtype=object)
    for t, name in enumerate(vocab.TERRITORIES):  # 3 iterations, vectorized inside
        m = terr == t
        country[m] = np.array(vocab.COUNTRIES[name])[rng.integers(0, len(vocab.COUNTRIES[name]), m.sum())]
    size_fit = np.where((employees >= 50) & (employees <= 2_000), 1.0,
                        np.where((employees >= 20) & (employees <= 10_000), 0.6, 0.2))
    acc_fit = 0.45 * np.array(vocab.INDUSTRY_FIT)[industry] + 0.35 * size_fit + 0.20 * np.array(vocab.TERRITORY_FIT)[terr]
    acc_intent = rng.beta(1.2, 4.0, n_acc)
    in_crm = rng.random(n_acc) < 0.85
    is_customer = rng.random(n_acc) < 0.05
    in_crm |= is_customer
    # account owner: an owner of the same territory for 60% of CRM companies
    own_by_terr = [np.flatnonzero(own_terr == t) for t in range(3)]
    pick = rng.random(n_acc)
    acc_owner = np.full(n_acc, -1, dtype=np.int64)
    for t in range(3):
        m = terr == t
        acc_owner[m] = OWNER_ID_BASE + own_by_terr[t][(pick[m] * len(own_by_terr[t])).astype(int)]
    acc_owner = np.where(in_crm & (rng.random(n_acc) < 0.6), acc_owner, -1)
    funding = rng.choice(len(vocab.FUNDING_STAGES), n_acc, p=[0.15, 0.15, 0.2, 0.17, 0.13, 0.1, 0.1])
    accounts = pl.DataFrame(
        {
            "account_idx": np.arange(n_acc),
            "true_account_id": [f"A{i:07d}" for i in range(n_acc)],
            "domain": np.char.add(stem, tld),
            "name": np.char.add(np.char.add(np.char.capitalize(stem), " "), suffix),
            "employees": employees,
            "industry": np.array(vocab.INDUSTRIES)[industry],
            "territory": np.array(vocab.TERRITORIES)[terr],
            "country": country.astype(str),
            "funding_stage": np.array(vocab.FUNDING_STAGES)[funding],
            "fit": acc_fit,
            "intent": acc_intent,
            "in_crm": in_crm,
            "is_customer": is_customer,
            "owner_id": acc_owner,
            "has_role_address": rng.random(n_acc) < r.role_account_rate,
            "role_prefix": np.array(vocab.ROLE_PREFIXES)[rng.integers(0, len(vocab.ROLE_PREFIXES), n_acc)],
            "company_created_ms": start - rng.integers(1, 900, n_acc) * DAY + rng.integers(0, DAY, n_acc),
        }
    )

    # ---- persons: one per account first (so every account is populated), the rest by company size
    w = np.log1p(employees)
    acct = np.concatenate([np.arange(min(n_acc, n_per)), rng.choice(n_acc, n_per - min(n_acc, n_per), p=w / w.sum())])
    fi = rng.integers(0, len(vocab.FIRST_NAMES), n_per)
    li = rng.integers(0, len(vocab.LAST_NAMES), n_per)
    first_ascii = np.array(vocab.FIRST_NAMES)[fi]
    last_ascii = np.array(vocab.LAST_NAMES)[li]
    first_disp = np.array([vocab.ACCENTED_FIRST_NAMES.get(x, x) for x in vocab.FIRST_NAMES])[fi]
    last_disp = np.array([vocab.ACCENTED_LAST_NAMES.get(x, x) for x in vocab.LAST_NAMES])[li]
    ti = rng.choice(len(vocab.TITLES), n_per, p=vocab.TITLE_WEIGHTS)
    sen_fit = np.array([t[2] for t in vocab.TITLES])[ti]
    fit = 0.6 * acc_fit[acct] + 0.4 * sen_fit
    intent = np.clip(0.5 * acc_intent[acct] + 0.5 * rng.beta(1.2, 4.0, n_per), 0, 1)
    # The opportunity law (latent.py): buying episodes over the horizon, a little hazard noise nothing can see, and
    # one arrival process per person whose first arrival is their opportunity.
    law = cfg.law
    days, horizon = cfg.scale.days, cfg.horizon_days
    eps = rng.normal(0, law.hazard_noise_sd, n_per)
    episodes = draw_episodes(law, fit, horizon, rng)
    arrival_e = rng.exponential(1.0, n_per)
    arrival_u = rng.random(n_per)  # the time within the arrival day
    booked_before = rng.uniform(law.meeting_booked_min_days * DAY, law.meeting_booked_max_days * DAY, n_per)
    held_before = rng.uniform(law.meeting_held_min_hours * HOUR, law.meeting_held_max_hours * HOUR, n_per)
    # inbound requests (a form on the website): whether (the rate follows the person's mean p30 over the window)
    # and on which day (weighted by p30 that day), decided slice by slice below
    req_draw, req_u, req_v = rng.random(n_per), rng.random(n_per), rng.random(n_per)
    opp_day = np.empty(n_per, np.int64)
    p_outcome = np.empty(n_per)  # P(arrival in the outcome period | path), before the at-most-one rule
    mean_p30 = np.empty(n_per)  # over the window's days: sets the request and sign-up rates
    requester = np.zeros(n_per, bool)
    req_day = np.zeros(n_per, np.int64)
    cov = window_coverage(days, 0.97)  # requests stay in the first 97% of the window, as before
    chunk = cfg.persons_per_block
    for lo in range(0, n_per, chunk):  # bounded memory: one slice's person x day arrays at a time
        sl = np.arange(lo, min(n_per, lo + chunk))
        path = latent_path(law, sl, intent, fit, eps, episodes, horizon)
        opp_day[sl] = first_arrival_day(path.hazard, arrival_e[sl])
        p_outcome[sl] = 1.0 - np.exp(-path.hazard[:, days:].sum(axis=1))
        mean_p30[sl] = path.p30[:, :days].sum(axis=1) / days
        p_req = np.clip(r.request_base_rate + r.request_propensity_slope * mean_p30[sl], 0, 0.9)
        asks = np.flatnonzero(req_draw[sl] < p_req)
        requester[sl[asks]] = True
        req_day[sl[asks]] = draw_days(path.p30[asks, :days] * cov, np.arange(len(asks)), req_u[sl[asks]])
        del path
    has_opp = opp_day < horizon
    opp_ms = np.where(has_opp, start + ((opp_day + arrival_u) * DAY).astype(np.int64), -1)
    opp_booked = np.where(has_opp, opp_ms - booked_before.astype(np.int64), -1)
    opp_held = np.where(has_opp, opp_ms - held_before.astype(np.int64), -1)
    # the oracle: P(opportunity in [as_of, as_of + 30 d) | latent path); 0 for whoever opened one before as_of
    before_as_of = opp_day < days
    propensity = np.where(before_as_of, 0.0, p_outcome)
    outcome = (opp_day >= days) & has_opp

    # job changers move (mid-window) to another account; all their identifiers stay one person
    changer = rng.random(n_per) < r.job_changer_rate
    new_acct = np.where(changer, (acct + 1 + rng.integers(0, n_acc - 1, n_per)) % n_acc, acct)
    change_ms = np.where(changer, start + (0.3 + 0.4 * rng.random(n_per)) * span, -1).astype(np.int64)

    pattern = rng.choice(3, n_per, p=[0.6, 0.25, 0.15])
    fl, ll = np.char.lower(first_ascii), np.char.lower(last_ascii)
    local = np.where(pattern == 0, np.char.add(np.char.add(fl, "."), ll),
                     np.where(pattern == 1, np.char.add(np.char.array(fl).astype("U1"), ll), fl))
    dom = accounts["domain"].to_numpy()
    # old and new work addresses are numbered together so a changer never takes a colleague's address
    ch_idx = np.flatnonzero(changer)
    both = dedupe_locals(pl.Series(np.concatenate([local, local[ch_idx]])),
                         pl.Series(np.concatenate([dom[acct], dom[new_acct[ch_idx]]]))).to_numpy()
    work_email = pl.Series(both[:n_per])
    new_work_email = np.full(n_per, None, dtype=object)
    new_work_email[ch_idx] = both[n_per:]
    new_work_email = pl.Series(new_work_email.tolist(), dtype=pl.String)

    has_personal = rng.random(n_per) < r.personal_email_rate
    fm = np.array(vocab.FREEMAIL_DOMAINS)[rng.choice(len(vocab.FREEMAIL_DOMAINS), n_per, p=[0.5, 0.12, 0.15, 0.1, 0.08, 0.05])]
    plocal = np.char.add(np.char.add(fl, ll), rng.integers(10, 99, n_per).astype(str))
    personal_email = dedupe_locals(pl.Series(plocal), pl.Series(fm))
    personal_email = pl.select(pl.when(pl.Series(has_personal)).then(personal_email)).to_series()
    # gmail ignores dots, so people type it both ways: firstlast12@gmail.com and first.last12@gmail.com
    fl_len = pl.Series(np.char.str_len(fl))
    personal_dotted = pl.select(
        pl.when(personal_email.str.ends_with("@gmail.com"))
        .then(personal_email.str.slice(0, fl_len) + "." + personal_email.str.slice(fl_len))
        .otherwise(personal_email)
    ).to_series()

    # inbound requests: up to two, the second sometimes within 24 h (folded by the KPI)
    req1 = np.where(requester, start + ((req_day + req_v * cov[req_day]) * DAY).astype(np.int64), -1)
    refold = requester & (rng.random(n_per) < r.refold_request_rate)
    second = requester & ~refold & (rng.random(n_per) < 0.10)
    req2 = np.where(refold, req1 + rng.integers(10 * MINUTE, 20 * HOUR, n_per),
                    np.where(second, req1 + rng.integers(2 * DAY, 20 * DAY, n_per), -1))
    req2 = np.where(req2 >= end, -1, req2)

    in_crm_p = rng.random(n_per) < r.crm_person_rate
    role_user = accounts["has_role_address"].to_numpy()[acct] & (rng.random(n_per) < 0.5)

    persons = pl.DataFrame(
        {
            "person_idx": np.arange(n_per),
            "true_person_id": [f"P{i:08d}" for i in range(n_per)],
            "account_idx": acct,
            "current_account_idx": new_acct,
            "first_name": first_disp,
            "last_name": last_disp,
            "title": np.array([t[0] for t in vocab.TITLES])[ti],
            "seniority": np.array([t[1] for t in vocab.TITLES])[ti],
            "fit": fit,
            "intent": intent,
            "propensity": propensity,
            "outcome_opportunity_30d": outcome,
            "opportunity_ms": opp_ms,  # -1: none before as_of + 30 days
            "opportunity_before_as_of": before_as_of,
            "opp_meeting_booked_ms": opp_booked,
            "opp_meeting_held_ms": opp_held,
            "mean_p30": mean_p30,
            "work_email": work_email,
            "new_work_email": new_work_email,
            "personal_email": personal_email,
            "personal_email_dotted": personal_dotted,
            "is_job_changer": changer,
            "job_change_ms": change_ms,
            "request1_ms": req1,
            "request2_ms": req2,
            "in_crm": in_crm_p,
            "is_role_user": role_user,
            "is_web_visitor": rng.random(n_per) < r.web_visitor_rate + 0.5 * intent,
            "u": rng.random(n_per),  # spare uniform for per-person choices later
        }
    )
    # person owner: the account owner, else an owner of the account's territory
    acc_owner_arr = acc_owner[acct]
    t_of = terr[acct]
    po = np.empty(n_per, dtype=np.int64)
    pick = rng.random(n_per)
    for t in range(3):
        m = t_of == t
        po[m] = OWNER_ID_BASE + own_by_terr[t][(pick[m] * len(own_by_terr[t])).astype(int)]
    persons = persons.with_columns(
        owner_id=np.where(acc_owner_arr > 0, acc_owner_arr, po),
        territory=np.array(vocab.TERRITORIES)[t_of],
    )

    contacts = _build_contacts(cfg, rng, persons, accounts, start, end)
    role_addresses = (
        persons.filter("is_role_user")
        .join(accounts.select("account_idx", "domain", "role_prefix"), on="account_idx")
        .select(
            "person_idx", "account_idx",
            role_email=pl.col("role_prefix") + "@" + pl.col("domain"),
        )
        .sort("person_idx")
    )
    return Population(owners, accounts, persons, contacts, role_addresses, int(start), int(end),
                      episodes=episodes, eps=eps, cfg=cfg)


def _build_contacts(cfg, rng, persons: pl.DataFrame, accounts: pl.DataFrame, start: int, end: int) -> pl.DataFrame:
    """CRM contact records: one per CRM person, plus duplicates, merged-away records, job-change contacts and
    role-address contacts. Ids are assigned in createdate order."""
    r = cfg.rates
    n = persons.height
    p = persons
    req1 = p["request1_ms"].to_numpy()
    booked = p["opp_meeting_booked_ms"].to_numpy()
    booked = np.where((booked > 0) & (booked < end), booked, -1)  # the meeting before an opportunity, if booked yet
    in_crm = p["in_crm"].to_numpy()
    never = np.iinfo(np.int64).max
    # historical contacts predate the window; others were created inside it
    hist = rng.random(n) < 0.6
    created = np.where(hist, start - rng.integers(1, 700, n) * DAY, start + (rng.random(n) * (end - start) * 0.9))
    created = created.astype(np.int64) + rng.integers(0, DAY, n) * hist
    # a requester without a contact gets one from the form, seconds after the request; someone without one whom
    # sales books a meeting with (the meeting before their opportunity) gets one minutes before the booking
    form_t = np.where(req1 > 0, req1 + rng.integers(1, 30, n) * SECOND, never)
    meet_t = np.where(booked > 0, booked - rng.integers(1, 60, n) * MINUTE, never)
    new_t = np.minimum(form_t, meet_t)
    new_contact = (~in_crm) & (new_t < never)
    has_contact = in_crm | new_contact
    created = np.where(new_contact, new_t, created)
    # an in-window contact must exist before its own first request and before the meeting booked with them
    need = np.minimum(np.where(req1 > 0, req1, never), np.where(booked > 0, booked, never))
    created = np.where(in_crm & (need < never) & (created > need), need - rng.integers(1, 30, n) * DAY, created)

    acc_dom = accounts["domain"].to_numpy()
    base = pl.DataFrame(
        {
            "person_idx": p["person_idx"],
            "email": p["work_email"],
            "account_idx": p["account_idx"],
            "created_ms": created,
            "archived": False,
            "kind": "primary",
        }
    ).filter(pl.Series(has_contact))

    # job changers: a new contact at the new company some days after the change (if they are in the CRM)
    ch = p.filter(pl.col("is_job_changer") & pl.Series(has_contact))
    jobc = pl.DataFrame(
        {
            "person_idx": ch["person_idx"],
            "email": ch["new_work_email"],
            "account_idx": ch["current_account_idx"],
            "created_ms": ch["job_change_ms"] + rng.integers(1, 10, ch.height) * DAY,
            "archived": False,
            "kind": "job_change",
        }
    ).filter(pl.col("created_ms") < end)

    # duplicates of CRM persons: case variant, +tag variant, or an archived record merged into the primary
    k = base.height
    is_dup = rng.random(k) < r.dup_contact_rate
    dkind = rng.choice(["dup_case", "dup_plus_tag", "merged_away"], k, p=[0.3, 0.35, 0.35])
    d = base.with_columns(kind=pl.Series(dkind), is_dup=pl.Series(is_dup), off=pl.Series(rng.integers(1, 40, k))).filter("is_dup")
    tags = ["webinar", "events", "news", "crm"]
    d = d.with_columns(
        email=pl.when(pl.col("kind") == "dup_case")
        .then(pl.col("email").str.to_titlecase())  # John.Smith@Acme.Com
        .when(pl.col("kind") == "dup_plus_tag")
        .then(pl.col("email").str.replace("@", "+" + pl.lit(tags[0]) + "@", literal=True))
        .otherwise(pl.col("email")),
        # a merged-away record is older than the survivor; a live duplicate is newer
        created_ms=pl.when(pl.col("kind") == "merged_away")
        .then(pl.col("created_ms") - pl.col("off") * DAY)
        .otherwise(pl.min_horizontal(pl.col("created_ms") + pl.col("off") * DAY, pl.lit(end - HOUR))),
        archived=pl.col("kind") == "merged_away",
    ).drop("is_dup", "off")

    # role-address contacts: one per role account in use, created from a form by one of its users
    ra = (
        p.filter("is_role_user")
        .group_by("account_idx")
        .agg(pl.col("person_idx").min())
        .sort("account_idx")
    )
    role = pl.DataFrame(
        {
            "person_idx": pl.Series([None] * ra.height, dtype=pl.Int64),
            "email": pl.Series(
                [f"{accounts['role_prefix'][int(a)]}@{acc_dom[int(a)]}" for a in ra["account_idx"]], dtype=pl.String
            ),
            "account_idx": ra["account_idx"],
            "created_ms": start - rng.integers(1, 300, ra.height) * DAY,
            "archived": False,
            "kind": "role",
        }
    )
    allc = pl.concat([base.cast({"person_idx": pl.Int64}), jobc.cast({"person_idx": pl.Int64}),
                      d.cast({"person_idx": pl.Int64}), role], how="vertical_relaxed")
    allc = allc.sort(["created_ms", "email"]).with_columns(
        contact_id=pl.int_range(pl.len(), dtype=pl.Int64) + CONTACT_ID_BASE
    )
    # the survivor of a merge lists the merged-away id(s) in hs_merged_object_ids
    merged = (
        allc.filter(pl.col("kind") == "merged_away")
        .group_by("person_idx")
        .agg(merged_ids=pl.col("contact_id").sort().cast(pl.String).str.join(";"))
    )
    allc = allc.join(merged, on="person_idx", how="left").with_columns(
        merged_ids=pl.when(pl.col("kind") == "primary").then(pl.col("merged_ids"))
    )
    return allc.sort("contact_id")
