"""The latent law behind every opportunity (sandbox/world/TRUTH.md, config.OpportunityLaw).

Each person has a base intent and buying episodes; their intent on day d is the base plus the amplitudes of the
episodes active that day. The 30-day opportunity probability p30 on day d follows from fit, that day's intent and
a per-person noise; its daily hazard -ln(1 - p30) / 30 drives one inhomogeneous arrival process over the window
and the 30 days after as_of. The first arrival is the person's opportunity (at most one per person), so the
opportunities inside the window and the outcome after as_of come from the same law.

Episodes are drawn once for the whole population (a few per person); the dense person x day arrays are rebuilt
from them for any slice of persons (a block), so memory stays bounded by the slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import OpportunityLaw


@dataclass
class Episodes:
    """Buying episodes of all persons, sorted by person: person j's are rows offsets[j]:offsets[j + 1]. Days are
    relative to the window's first day (negative: before the window); `end_day` is exclusive."""

    offsets: np.ndarray  # int64, persons + 1
    start_day: np.ndarray  # int64
    end_day: np.ndarray  # int64
    amplitude: np.ndarray  # float64

    def rows_of(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(episode rows, position of their person in idx) for the persons idx."""
        lo, hi = self.offsets[idx], self.offsets[idx + 1]
        counts = hi - lo
        owner = np.repeat(np.arange(len(idx)), counts)
        first = np.repeat(lo - np.r_[0, np.cumsum(counts)[:-1]], counts)
        return first + np.arange(counts.sum()), owner


def draw_episodes(law: OpportunityLaw, fit: np.ndarray, horizon_days: int, rng: np.random.Generator) -> Episodes:
    n = len(fit)
    span = horizon_days + law.episode_lead_in_days
    count = rng.poisson(law.episode_rate_per_day * (law.episode_fit_offset + fit) * span)
    k = int(count.sum())
    start = rng.integers(-law.episode_lead_in_days, horizon_days, k)
    duration = rng.integers(law.episode_min_days, law.episode_max_days + 1, k)
    amp = rng.uniform(law.episode_min_amplitude, law.episode_max_amplitude, k)
    offsets = np.r_[0, np.cumsum(count)].astype(np.int64)
    return Episodes(offsets, start.astype(np.int64), (start + duration).astype(np.int64), amp)


@dataclass
class LatentPath:
    """Person x day arrays of a slice of persons over the horizon (window days, then the outcome days)."""

    intent: np.ndarray  # intent_j(d) in [0, 1]
    p30: np.ndarray  # p30_j(d) = sigmoid(a0 + b_fit fit_j + b_intent intent_j(d) + eps_j)
    hazard: np.ndarray  # h_j(d) = -ln(1 - p30_j(d)) / 30


def latent_path(law: OpportunityLaw, idx: np.ndarray, base_intent: np.ndarray, fit: np.ndarray, eps: np.ndarray,
                episodes: Episodes, horizon_days: int) -> LatentPath:
    """The latent path of persons idx (arrays indexed by person_idx). Deterministic: no random draws."""
    idx = np.asarray(idx, dtype=np.int64)
    n, hd = len(idx), horizon_days
    rows, owner = episodes.rows_of(idx)
    s = np.clip(episodes.start_day[rows], 0, hd)
    e = np.clip(episodes.end_day[rows], 0, hd)
    amp = episodes.amplitude[rows]
    width = hd + 1
    # each episode adds its amplitude from its first day and takes it away after its last: one cumulative sum
    diff = np.bincount(np.r_[owner * width + s, owner * width + e], weights=np.r_[amp, -amp], minlength=n * width)
    intent = np.cumsum(diff.reshape(n, width)[:, :hd], axis=1)
    intent += base_intent[idx][:, None]
    np.clip(intent, 0.0, 1.0, out=intent)
    # exp(logit), logit = a0 + b_fit fit + b_intent intent + eps (at most a few units: no overflow)
    odds = law.hazard_intent_coef * intent
    odds += (law.hazard_intercept + law.hazard_fit_coef * fit[idx] + eps[idx])[:, None]
    np.exp(odds, out=odds)
    hazard = np.log1p(odds)  # -ln(1 - p30) = ln(1 + odds)
    hazard /= law.outcome_days
    odds /= 1.0 + odds  # p30 = odds / (1 + odds)
    return LatentPath(intent, odds, hazard)


def first_arrival_day(hazard: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Day of the first arrival of the process with daily hazard h (one row per person), given E ~ Exp(1) per
    person: the first day whose cumulative hazard exceeds E, which is a Bernoulli(1 - exp(-h(d))) per day until the
    first success. Returns the number of days (no arrival) where there is none."""
    cum = np.cumsum(hazard, axis=1)
    return (cum <= e[:, None]).sum(axis=1)


def draw_days(weights: np.ndarray, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each event k, a day drawn for person rows[k] with probability proportional to weights[rows[k], d]
    (u[k] uniform in [0, 1)). One search over all rows: each row's normalized cumulative weights shifted by the
    row number form one increasing sequence."""
    n, d = weights.shape
    if len(rows) == 0 or n == 0:
        return np.zeros(len(rows), dtype=np.int64)
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    norm = np.where(total > 0, cum / np.where(total > 0, total, 1.0), (np.arange(1, d + 1) / d)[None, :])
    keys = (norm + np.arange(n)[:, None]).ravel()
    flat = np.searchsorted(keys, rows + u, side="right")
    day = flat - rows * d
    return np.clip(day, 0, d - 1)


def window_coverage(days: int, share: float) -> np.ndarray:
    """Share of each window day before `share` x the window (an event time capped there)."""
    return np.clip(share * days - np.arange(days), 0.0, 1.0)
