"""Server configuration: constructor arguments, environment variables, CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .search import SEARCH_RESULT_CAP

DEFAULT_DB_PATH = Path("data/crm_sandbox.sqlite")

# Environment variable -> ServerConfig field. HUBSPOT_TOKEN is read lazily by ``resolved_token``
# (so a config built in code still picks it up) and never stored in a repr.
ENV_VARS: dict[str, str] = {
    "SANDBOX_CRM_DB": "db_path",
    "SANDBOX_CRM_WORLD": "world_dir",
    "SANDBOX_CRM_HOST": "host",
    "SANDBOX_CRM_PORT": "port",
    "SANDBOX_RATE_LIMIT_10S": "rate_limit_10s",
    "SANDBOX_DAILY_LIMIT": "daily_limit",
    "SANDBOX_SEARCH_PER_SECOND": "search_per_second",
    "SANDBOX_SEARCH_RESULT_CAP": "search_result_cap",
    "SANDBOX_FAULT_5XX_RATE": "fault_5xx_rate",
    "SANDBOX_FAULT_429_RATE": "fault_429_rate",
    "SANDBOX_LATENCY_MS": "latency_ms",
    "SANDBOX_FAULT_DROP_RATE": "drop_rate",
    "SANDBOX_FAULT_DROP_AFTER_COMMIT_RATE": "drop_after_commit_rate",
    "SANDBOX_FAULT_SEED": "fault_seed",
    "SANDBOX_CRM_ACCESS_LOG": "access_log",
}
TOKEN_ENV = "HUBSPOT_TOKEN"


@dataclass
class ServerConfig:
    db_path: Path = DEFAULT_DB_PATH
    world_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port; read it back from CRMServer.url
    token: str | None = None  # None -> environment variable HUBSPOT_TOKEN
    rate_limit_10s: int = 100
    daily_limit: int = 250_000
    search_per_second: int = 5
    fault_5xx_rate: float = 0.0
    fault_429_rate: float = 0.0
    latency_ms: int = 0
    drop_rate: float = 0.0
    fault_seed: int = 0
    reseed: bool = False
    # Beyond the core contract:
    drop_after_commit_rate: float = 0.0  # writes applied, then the response is lost (see faults.py)
    search_result_cap: int = SEARCH_RESULT_CAP  # HubSpot's 10,000; smaller values make the cap testable
    access_log: Path | None = None  # method, path (no query string, no headers), status, duration
    idle_timeout_s: float = 30.0  # keep-alive connections idle longer than this are closed

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        if self.world_dir is not None:
            self.world_dir = Path(self.world_dir)
        if self.access_log is not None:
            self.access_log = Path(self.access_log)

    def __repr__(self) -> str:  # never show the token
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.name != "token")
        return f"ServerConfig({shown}, token={'<set>' if self.token else None})"

    def resolved_token(self) -> str | None:
        return self.token or os.environ.get(TOKEN_ENV) or None

    @classmethod
    def from_env(cls, **overrides: Any) -> ServerConfig:
        """Defaults, then the environment (``SANDBOX_*``), then ``overrides`` (None means "not given")."""
        kwargs: dict[str, Any] = {}
        types = {f.name: f.type for f in fields(cls)}
        for env, name in ENV_VARS.items():
            raw = os.environ.get(env)
            if raw is None or raw == "":
                continue
            kwargs[name] = _convert(types[name], raw, env)
        kwargs.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**kwargs)


def _convert(annotation: Any, raw: str, env: str) -> Any:
    text = str(annotation)
    try:
        if text.startswith("int"):
            return int(raw)
        if text.startswith("float"):
            return float(raw)
        if text.startswith("bool"):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if "Path" in text:
            return Path(raw)
    except ValueError:
        raise ValueError(f"environment variable {env}={raw!r} is not a valid {text}") from None
    return raw
