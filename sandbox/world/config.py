"""World configuration: scales (docs/architecture.md) and the rates of every injected phenomenon.

Every rate here is recorded, with the count actually produced, in `truth/phenomena.json`, so a test
can check each phenomenon is present at its configured rate.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scale:
    name: str
    persons: int
    accounts: int
    days: int


SCALES: dict[str, Scale] = {
    "S": Scale("S", persons=2_000, accounts=400, days=30),
    "M": Scale("M", persons=50_000, accounts=8_000, days=90),
    "L": Scale("L", persons=1_000_000, accounts=120_000, days=180),
}


@dataclass(frozen=True)
class Rates:
    """Configured rates. Units are in the names: `_rate` is a share of the population named in the comment."""

    # identity
    crm_person_rate: float = 0.70  # persons with a CRM contact before any inbound request
    dup_contact_rate: float = 0.05  # of CRM persons: a second contact (case / +tag variant) or a merged-away record
    personal_email_rate: float = 0.15  # of persons: a free-mail address used in the product/forms
    anon_identified_later_rate: float = 0.60  # of web visitors: anonymous sessions later tied by identify
    multi_email_prospect_rate: float = 0.10  # of prospects: several emails in the sales tool
    role_account_rate: float = 0.08  # of accounts: a shared role address (info@, sales@) used by 2-4 people
    job_changer_rate: float = 0.02  # of persons: a champion moves to another account mid-window
    # funnel / follow-up
    web_visitor_rate: float = 0.75  # of persons (plus 0.5 x base intent)
    # P(inbound request) = base + slope * the person's mean p30 over the window (OpportunityLaw)
    request_base_rate: float = 0.03
    request_propensity_slope: float = 0.45
    refold_request_rate: float = 0.12  # of requesters: a second request within 24 h (folded by the KPI)
    missed_followup_rate: float = 0.15  # of inbound requests: no sales touch within 7 days
    reply_followup_missed_rate: float = 0.20  # of replies/meetings: no next sales touch (missed follow-up)
    # collisions
    campaign_sequence_collision_rate: float = 0.10  # of sequence-enrolled persons: a campaign send within 24 h of a step
    double_sequence_rate: float = 0.04  # of sequence-enrolled persons: a second overlapping sequence
    # deliverability
    base_bounce_rate: float = 0.008
    # Healthy marketing domains get no complaints: at S volume (~400 sends/week a domain) a single complaint
    # already crosses the 0.08% kill-switch threshold, so any would make the "one degrading domain" untestable.
    base_complaint_rate: float = 0.0
    degraded_bounce_rate: float = 0.045  # the degrading domain after its known date
    degraded_complaint_rate: float = 0.0015
    degrade_at_fraction: float = 0.6  # the degrading domain goes bad at this fraction of the window
    # messy input
    broken_record_rate: float = 0.005  # of records in every file source
    duplicate_delivery_rate: float = 0.01  # of ESP events / Segment events / mailings delivered twice
    late_event_rate: float = 0.02  # of events arriving on a later day than they happened


@dataclass(frozen=True)
class OpportunityLaw:
    """The one per-person law that makes opportunities, inside the window and in the 30 days after as_of
    (sandbox/world/TRUTH.md). Units are in the names; day d is [start + d days, start + d + 1 days), the horizon
    is the window plus `outcome_days` after as_of.

    intent_j(d) = clip(base_intent_j + sum of the amplitudes of j's buying episodes active on day d, 0, 1)
    p30_j(d)    = sigmoid(hazard_intercept + hazard_fit_coef * fit_j + hazard_intent_coef * intent_j(d) + eps_j),
                  eps_j ~ N(0, hazard_noise_sd)
    h_j(d)      = -ln(1 - p30_j(d)) / outcome_days  (the daily hazard)
    """

    outcome_days: int = 30  # the scoring target: an opportunity within this many days after as_of
    # buying episodes: Poisson(episode_rate_per_day * (episode_fit_offset + fit) * days) per person, starting on a
    # uniform day in [-episode_lead_in_days, horizon), lasting a uniform whole number of days, a uniform amplitude
    episode_rate_per_day: float = 1 / 120
    episode_fit_offset: float = 0.5
    episode_lead_in_days: int = 30  # episodes may start this long before the window (day 0 is not special)
    episode_min_days: int = 14
    episode_max_days: int = 45  # inclusive
    episode_min_amplitude: float = 0.25
    episode_max_amplitude: float = 0.60
    # hazard
    hazard_intercept: float = -7.6
    hazard_fit_coef: float = 4.8
    hazard_intent_coef: float = 4.2
    hazard_noise_sd: float = 0.3
    # the meeting before every opportunity: booked this many days before it, held this many hours before it
    meeting_booked_min_days: float = 2.0
    meeting_booked_max_days: float = 9.0
    meeting_held_min_hours: float = 1.0
    meeting_held_max_hours: float = 48.0
    # of conversations (replies, answered inbound requests): a meeting that never leads to a deal
    conversation_meeting_rate: float = 0.12
    # observable behaviour: web sessions per day = web_session_scale * (web_session_base + web_session_intent_coef *
    # intent_j(d)) / 30; intent-page share of a page view = intent_page_base + intent_page_coef * intent_j(d)
    web_session_scale: float = 0.71  # keeps the mean sessions per web visitor about as with a static intent
    web_session_base: float = 0.3
    web_session_intent_coef: float = 8.0
    intent_page_base: float = 0.03
    intent_page_coef: float = 0.7
    # P(reply to a sequence step) = reply_base + reply_p30_coef * p30_j(day of the step)
    reply_base: float = 0.02
    reply_p30_coef: float = 0.22
    # P(product sign-up) = signup_base + signup_p30_coef * mean p30 over the window (time weighted by intent_j(d))
    signup_base: float = 0.06
    signup_p30_coef: float = 0.5
    product_step_p30_coef: float = 0.4  # each product step after sign-up: base + coef * mean p30


@dataclass(frozen=True)
class WorldConfig:
    scale: Scale
    seed: int = 42
    # The world ends (and the warehouse's as-of date is) at this instant; fixed so output is byte-identical.
    as_of: dt.datetime = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    rates: Rates = field(default_factory=Rates)
    law: OpportunityLaw = field(default_factory=OpportunityLaw)
    # Event generation runs block by block to bound memory: a block holds about 4.5M person-days
    # (M: one block of 50k persons x 90 days, ~3 GiB peak; L: 40 blocks of 25k persons x 180 days).
    person_days_per_block: int = 4_500_000
    events_per_file: int = 50_000

    @property
    def persons_per_block(self) -> int:
        return max(10_000, self.person_days_per_block // self.scale.days)

    @property
    def start(self) -> dt.datetime:
        return self.as_of - dt.timedelta(days=self.scale.days)

    @property
    def horizon_days(self) -> int:
        """Days of the latent path: the window plus the outcome period after as_of."""
        return self.scale.days + self.law.outcome_days

    @classmethod
    def for_scale(cls, name: str, seed: int = 42, **rate_overrides: float) -> "WorldConfig":
        try:
            scale = SCALES[name.upper()]
        except KeyError:
            raise ValueError(f"unknown scale {name!r}: choose one of {', '.join(SCALES)}") from None
        return cls(scale=scale, seed=seed, rates=dataclasses.replace(Rates(), **rate_overrides))

    def describe(self) -> dict:
        return {
            "scale": dataclasses.asdict(self.scale),
            "seed": self.seed,
            "start": self.start.isoformat(),
            "as_of": self.as_of.isoformat(),
            "rates": dataclasses.asdict(self.rates),
            "law": dataclasses.asdict(self.law),
        }
