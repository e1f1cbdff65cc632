"""Landing several file sources in one go, with running totals per source: what `revops land` reports. The
Dagster assets land one source each (dagster_project/defs/landing/assets.py) through the same land_source."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from revops.landing.files import SOURCES, FileResult, land_source


@dataclass
class SourceTotals:
    source: str
    files: int = 0
    skipped: int = 0
    read: int = 0
    landed: int = 0
    quarantined: int = 0
    duplicates: int = 0
    conflicting: int = 0
    seconds: float = 0.0
    problems: list[FileResult] = field(default_factory=list)  # files unreadable or refused
    providers: set[str] = field(default_factory=set)  # enrichment providers seen (folder names)

    def add(self, r: FileResult) -> None:
        self.files += 1
        self.skipped += r.skipped
        for k in ("read", "landed", "quarantined", "duplicates", "conflicting"):
            setattr(self, k, getattr(self, k) + getattr(r, k))
        if r.problem:
            self.problems.append(r)
        if r.provider:
            self.providers.add(r.provider)


def land_file_sources(con, names: list[str], root: Path,
                      on_progress: Callable[[SourceTotals], None] | None = None,
                      every_files: int = 200) -> list[SourceTotals]:
    """Land the named file sources below `root` in order; `on_progress` hears each source's totals every
    `every_files` files (long landings show progress)."""
    out = []
    for name in names:
        tot = SourceTotals(name)
        started = time.perf_counter()

        def on_file(r: FileResult, tot=tot, started=started) -> None:
            tot.add(r)
            tot.seconds = time.perf_counter() - started
            if on_progress and tot.files % every_files == 0:
                on_progress(tot)

        land_source(con, SOURCES[name], root, on_file=on_file)
        tot.seconds = time.perf_counter() - started
        out.append(tot)
    return out
