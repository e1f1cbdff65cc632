"""The dbt folders follow the pipeline (docs/architecture.md): each folder of dbt_project/models holds one domain,
its intermediate models and its marts, and no folder reads a later one — so a folder's name says where a model
sits, and the folder graph has no circle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).parent / "dbt")

# the pipeline, in order: a model may read its own folder and earlier ones
FOLDERS = ["staging", "identity", "signals", "deliverability", "decisions", "kpi", "attribution", "sync"]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("dbt_target")
    subprocess.run([DBT, "parse", "--profiles-dir", ".", "--quiet", "--target-path", str(target)],
                   cwd=REPO / "dbt_project", check=True)
    return json.loads((target / "manifest.json").read_text())["nodes"]


def folder_of(node: dict) -> str:
    return Path(node["original_file_path"]).parts[1]  # models/<folder>/...


def folder_edges(nodes: dict) -> set[tuple[str, str]]:
    """(reading folder, read folder) for every ref between models of two folders."""
    models = {k: v for k, v in nodes.items() if v["resource_type"] == "model"}
    return {(folder_of(m), folder_of(models[d])) for m in models.values()
            for d in m["depends_on"]["nodes"] if d in models and folder_of(models[d]) != folder_of(m)}


def circles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Every folder that can reach itself, with one path back to it."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        seen = set()
        while stack:
            here, path = stack.pop()
            for nxt in sorted(graph.get(here, ())):
                if nxt == start:
                    found.append(path + [start])
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
    return found


def test_every_model_lives_in_a_pipeline_folder(nodes):
    stray = sorted(v["original_file_path"] for v in nodes.values()
                   if v["resource_type"] == "model" and folder_of(v) not in FOLDERS)
    assert stray == []


def test_no_folder_reads_a_later_one(nodes):
    backwards = sorted(f"{a} reads {b}" for a, b in folder_edges(nodes) if FOLDERS.index(b) > FOLDERS.index(a))
    assert backwards == []


def test_the_folder_graph_has_no_circle(nodes):
    assert circles(folder_edges(nodes)) == []


def test_the_circle_finder_finds_a_circle():
    # the shape the old layout had: intermediate/scoring read marts/decisions, which read intermediate/scoring
    assert circles({("scoring", "decisions"), ("decisions", "scoring"), ("kpi", "scoring")}) != []
    assert circles({("decisions", "identity"), ("kpi", "decisions")}) == []


def test_private_models_are_read_only_inside_their_folder(nodes):
    """An intermediate model only its own folder reads is private to that folder's dbt group."""
    models = {k: v for k, v in nodes.items() if v["resource_type"] == "model"}
    readers: dict[str, set[str]] = {}
    for m in models.values():
        for d in m["depends_on"]["nodes"]:
            if d in models:
                readers.setdefault(d, set()).add(folder_of(m))
    for key, m in models.items():
        if folder_of(m) == "staging":
            continue
        assert m["group"] == folder_of(m), m["name"]
        only_own_folder = readers.get(key, set()) <= {folder_of(m)}
        if m["name"].startswith("int_") and only_own_folder:
            assert m["access"] == "private", f"{m['name']} is read only in {folder_of(m)}: make it private"
