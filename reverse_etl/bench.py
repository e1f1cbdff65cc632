"""Reverse-ETL throughput against the sandbox CRM with its default rate limit (100 requests / 10 s: at 100
records a batch the ceiling is 1,000 records/s), on a copy of a built warehouse.

    python -m reverse_etl.bench [--duckdb data/warehouse.duckdb] [--world data/world] [--out bench_results/sync.json]

A fresh sandbox server seeded from the world takes a first full sync (every record sent): records/s, requests,
requests answered 429 (wasted), and the share of the ceiling reached."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from reverse_etl.engine import run_sync
from revops import settings
from revops.hubspot import HubSpotClient
from sandbox.crm_server import CRMServer, ServerConfig

CEILING_RECORDS_PER_S = 1_000  # 100 requests / 10 s × 100 records a batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duckdb", type=Path, default=None)
    ap.add_argument("--world", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("bench_results/sync.json"))
    args = ap.parse_args()
    db, world = args.duckdb or settings.duckdb_path(), args.world or settings.world_dir()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copy(db, copy)
        con = duckdb.connect(str(copy))
        con.execute("drop schema if exists crm_sync cascade")  # a first sync: everything is sent
        srv = CRMServer(ServerConfig(db_path=Path(tmp) / "crm.sqlite", world_dir=world, token="bench")).start()
        try:
            with HubSpotClient(base_url=srv.url, token="bench") as client:
                t0 = time.perf_counter()
                res = run_sync(con, client)
                seconds = time.perf_counter() - t0
                stats = dict(client.stats)
        finally:
            srv.stop()
            con.close()
    rate = res.succeeded / seconds
    out = {"records": res.sent, "confirmed": res.succeeded, "dead_lettered": res.dead_lettered,
           "seconds": round(seconds, 1), "records_per_s": round(rate), "ceiling_records_per_s": CEILING_RECORDS_PER_S,
           "share_of_ceiling": round(rate / CEILING_RECORDS_PER_S, 3), "requests": stats["requests"],
           "requests_429": stats["rate_limited"], "retries": stats["retries"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"{res.sent:,} records in {seconds:.1f} s = {rate:,.0f} records/s ({rate / CEILING_RECORDS_PER_S:.0%} of the "
          f"{CEILING_RECORDS_PER_S:,}/s ceiling); {stats['requests']:,} requests, {stats['rate_limited']:,} answered 429")


if __name__ == "__main__":
    main()
