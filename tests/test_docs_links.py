"""The project's docs render on GitHub: every relative link of README.md and docs/*.md points at a file or folder
of the repository, and none points outside it (a clone has nothing beside it)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _links():
    for md in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted(REPO.glob("*/README.md"))]:
        text = re.sub(r"```.*?```", "", md.read_text(), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            yield md, target.split("#")[0]


def test_relative_links_resolve_inside_the_repository():
    broken = []
    for md, target in _links():
        path = (md.parent / target).resolve()
        if not path.is_relative_to(REPO) or not path.exists():
            broken.append(f"{md.relative_to(REPO)}: {target}")
    assert broken == []


def test_no_doc_cites_the_outside_spec():
    cites = [str(p.relative_to(REPO)) for p in [REPO / "README.md", *(REPO / "docs").glob("*.md")]
             if re.search(r"DESIGN \d|shared/DESIGN", p.read_text())]
    assert cites == []
