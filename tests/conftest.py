from pathlib import Path

import pytest

from revops import settings  # noqa: F401  (telemetry off for everything the tests start)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def world_s(tmp_path_factory) -> Path:
    """The S world (seed 42), generated once per test session."""
    from sandbox.world.config import WorldConfig
    from sandbox.world.generate import generate_world

    out = tmp_path_factory.mktemp("world_s")
    generate_world(WorldConfig.for_scale("S", seed=42), out)
    return out
