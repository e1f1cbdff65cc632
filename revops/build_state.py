"""What a build has to do: the state-aware plan behind `revops build --changed` and the Dagster build sensor.

A build is needed for a dbt source whose table changed since the last successful build of everything downstream of
it, or for the whole project when its code changed (models, macros, seeds, tests, dbt_project.yml: the manifest's
checksums, and the environment variables dbt_project.yml reads). The calibration tables are sources like any
other: a recalibration rebuilds the scoring models downstream. A source read only by views needs nothing: a view shows
the change by itself. Our own write-back echoes never land (revops/landing/crm.py), so a run after a sync plans
nothing.

The fingerprint of a table is cheap on purpose — row count and newest `landed_at` for landed tables (append-only but
for the CRM associations, whose delete comes with an insert), else row count and an order-free hash of its rows
(the small calibration tables) — so a run with nothing new costs milliseconds, not a scan of 60 M JSON records.
The state is kept in `ops.build_state` and written only after dbt succeeded, with the fingerprints taken before it
started, so data landed during a build is built by the next one.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

CODE_KEY = "code"
VIEW_LIKE = {"view", "ephemeral"}

DDL = """
create schema if not exists ops;
create table if not exists ops.build_state (
    key varchar primary key,        -- 'code' or a dbt source, 'source:<source>.<table>'
    fingerprint varchar not null,   -- see fingerprints(): compared for equality only
    built_at timestamptz not null default now()
);
"""


@dataclass
class Source:
    selector: str                   # dbt selection of the source, e.g. source:hubspot.crm_contacts
    schema: str
    table: str
    downstream: set[str]            # unique ids of the models (views included) that read it, directly or not


@dataclass
class Plan:
    select: str | None              # dbt selection to build, None for the whole project
    nothing: bool                   # True: the warehouse is up to date
    code_changed: bool
    changed: list[str] = field(default_factory=list)  # selectors of the changed sources
    reason: str = ""
    fingerprints: dict[str, str] = field(default_factory=dict)  # the sources' fingerprints when planned

    def key(self) -> str:
        """Equal for two plans of the same data: a sensor asks once per new state, not again after a failure."""
        return hashlib.sha256(json.dumps([self.select, self.code_changed, self.fingerprints],
                                         sort_keys=True).encode()).hexdigest()[:20]


def load_manifest(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def code_fingerprint(manifest: dict, project_dir: Path | None = None) -> str:
    """The project's code as the manifest sees it: every node's and seed's checksum, the project's macros, and
    dbt_project.yml (vars)."""
    h = hashlib.sha256()
    project = manifest["metadata"].get("project_name")
    for uid in sorted(manifest["nodes"]):
        node = manifest["nodes"][uid]
        h.update(f"{uid}={node.get('checksum', {}).get('checksum', '')};".encode())
    for uid in sorted(manifest.get("unit_tests", {})):
        h.update(f"{uid}={json.dumps(manifest['unit_tests'][uid].get('given'), sort_keys=True, default=str)};".encode())
    for uid in sorted(manifest.get("macros", {})):
        macro = manifest["macros"][uid]
        if macro.get("package_name") == project:
            h.update(f"{uid}={macro.get('macro_sql', '')};".encode())
    if project_dir and (Path(project_dir) / "dbt_project.yml").exists():
        text = (Path(project_dir) / "dbt_project.yml").read_text()
        h.update(text.encode())
        # vars read from the environment (REVOPS_SCORING_WEIGHTS picks the weight tables): switching one changes
        # what every model downstream computes although no file changed
        for name in sorted(set(re.findall(r"env_var\(\s*['\"]([A-Za-z_][A-Za-z0-9_]*)['\"]", text))):
            h.update(f"env:{name}={os.environ.get(name)!r};".encode())
    # the models live in the engine's warehouse: a switch of engine (or a Spark warehouse folder removed) finds
    # nothing built there, whatever the control store remembers of the other
    from revops import engine

    if engine.is_spark():
        built = engine.spark_dir() / "warehouse" / "main.db"
        h.update(f"engine=spark;{built};{built.is_dir()}".encode())
    return h.hexdigest()


def sources(manifest: dict) -> dict[str, Source]:
    """Each dbt source with the models downstream of it."""
    children = manifest["child_map"]
    out = {}
    for uid, src in manifest["sources"].items():
        seen, todo = set(), list(children.get(uid, []))
        while todo:
            node = todo.pop()
            if node in seen or not node.startswith("model."):
                continue
            seen.add(node)
            todo.extend(children.get(node, []))
        selector = f"source:{src['source_name']}.{src['name']}"
        out[selector] = Source(selector, src["schema"], src.get("identifier") or src["name"], seen)
    return out


def _needs_build(manifest: dict, src: Source) -> bool:
    """A source with a table model downstream: a view-only source shows its change without a build."""
    return any(manifest["nodes"][m]["config"].get("materialized") not in VIEW_LIKE for m in src.downstream)


def fingerprints(con, srcs: dict[str, Source]) -> dict[str, str]:
    cols = {}
    for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns").fetchall():
        cols.setdefault((schema, table), set()).add(column)
    out = {}
    for sel, src in srcs.items():
        have = cols.get((src.schema, src.table))
        if have is None:
            out[sel] = "absent"
        elif "landed_at" in have:
            n, newest = con.execute(f'select count(*), max(landed_at) from "{src.schema}"."{src.table}"').fetchone()
            out[sel] = f"{n}|{newest}"
        else:
            n, digest = con.execute(
                f'select count(*), coalesce(bit_xor(hash(t)), 0) from "{src.schema}"."{src.table}" t').fetchone()
            out[sel] = f"{n}|{digest}"
    return out


def recorded(con) -> dict[str, str]:
    """The state of the last successful builds (nothing for a warehouse never built through the planner; a
    read-only connection works too)."""
    exists = con.execute("select count(*) from information_schema.tables "
                         "where table_schema = 'ops' and table_name = 'build_state'").fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute("select key, fingerprint from ops.build_state").fetchall())


def plan(con, manifest: dict, project_dir: Path | None = None) -> Plan:
    """What the next build must cover, from the fingerprints now against those of the last successful build."""
    before = recorded(con)
    now = snapshot(con, manifest)
    if before.get(CODE_KEY) != code_fingerprint(manifest, project_dir):
        why = "no build recorded yet" if CODE_KEY not in before else "the dbt project changed since the last build"
        return Plan(select=None, nothing=False, code_changed=True, reason=why, fingerprints=now)
    changed = sorted(sel for sel, fp in now.items() if before.get(sel) != fp)
    if not changed:
        return Plan(select=None, nothing=True, code_changed=False, reason="no new data since the last build",
                    fingerprints=now)
    return Plan(select=" ".join(f"{sel}+" for sel in changed), nothing=False, code_changed=False, changed=changed,
                reason=f"new data in {len(changed)} source(s): {', '.join(s.split(':', 1)[1] for s in changed)}",
                fingerprints=now)


def selectors_of_tables(manifest: dict, tables: list[tuple[str, str]]) -> list[str]:
    """The dbt source selectors of warehouse tables (schema, table), e.g. ('raw', 'esp_events')."""
    wanted = set(tables)
    return sorted(sel for sel, src in sources(manifest).items() if (src.schema, src.table) in wanted)


def record(con, manifest: dict, before: dict[str, str], built: set[str], project_dir: Path | None = None,
           whole_project: bool = False) -> list[str]:
    """After a successful dbt build of the models `built` (unique ids): each source whose every downstream model
    was built is up to date as of `before` (its fingerprint when the build started); the code when the whole
    project was. Returns the keys written."""
    con.execute(DDL)
    rows = []
    for sel, src in sources(manifest).items():
        if sel in before and src.downstream <= built:
            rows.append((sel, before[sel]))
    if whole_project:
        rows.append((CODE_KEY, code_fingerprint(manifest, project_dir)))
    con.execute("begin transaction")
    for key, fp in rows:
        con.execute("insert or replace into ops.build_state (key, fingerprint, built_at) values (?, ?, now())",
                    [key, fp])
    con.execute("commit")
    return [k for k, _ in rows]


def snapshot(con, manifest: dict) -> dict[str, str]:
    """The fingerprints of the sources a build covers, now: taken when a build starts, recorded when it
    succeeded."""
    return fingerprints(con, {sel: s for sel, s in sources(manifest).items() if _needs_build(manifest, s)})
