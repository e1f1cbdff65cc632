"""Validation models of the file sources (docs/landing.md). A record that fails lands in `raw.quarantine`
with the pydantic error, which names the field. Unknown fields are allowed: the raw record is kept whole."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class EspEvent(_Record):
    sg_event_id: StrictStr
    email: StrictStr
    timestamp: StrictInt  # unix seconds
    event: Literal["processed", "delivered", "deferred", "open", "click", "bounce", "dropped", "spamreport",
                   "unsubscribe", "group_unsubscribe", "group_resubscribe"]
    sg_message_id: StrictStr | None = None
    campaign_id: StrictStr | None = None
    sending_domain: StrictStr | None = None


class SegmentEvent(_Record):
    messageId: StrictStr
    type: Literal["identify", "track", "page", "group"]
    timestamp: datetime
    anonymousId: StrictStr | None = None
    userId: StrictStr | None = None
    event: StrictStr | None = None


class Prospect(_Record):
    id: StrictInt
    emails: list[StrictStr]
    updatedAt: datetime


class SequenceState(_Record):
    id: StrictInt
    prospectId: StrictInt
    sequenceId: StrictInt
    state: StrictStr
    updatedAt: datetime


class Mailing(_Record):
    id: StrictInt
    prospectId: StrictInt
    sequenceId: StrictInt
    updatedAt: datetime


class EnrichmentCompany(_Record):
    domain: StrictStr
    observed_at: datetime


class EnrichmentSignal(_Record):
    signal_id: StrictStr
    domain: StrictStr
    signal_type: Literal["funding_round", "exec_hire", "job_posting"]
    observed_at: datetime
