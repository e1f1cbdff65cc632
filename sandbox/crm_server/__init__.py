"""A local HubSpot-compatible CRM server (CRM v3 subset) for demos, tests and benchmarks.

    from sandbox.crm_server import CRMServer, ServerConfig
    srv = CRMServer(ServerConfig(db_path=Path("crm.sqlite"), world_dir=Path("worlds/s"))).start()
    srv.url  # http://127.0.0.1:<port>; clients send "Authorization: Bearer $HUBSPOT_TOKEN"
    srv.stop()

Seeded once from a world's ``crm/*.jsonl``, persisted in SQLite, with HubSpot's rate
limits and error shapes, and configurable fault injection. See README.md in this folder.
"""

from .config import ServerConfig
from .search import SEARCH_RESULT_CAP
from .seed import SeedError
from .server import CRMServer, seed_counts

__all__ = ["CRMServer", "ServerConfig", "SEARCH_RESULT_CAP", "SeedError", "seed_counts"]
