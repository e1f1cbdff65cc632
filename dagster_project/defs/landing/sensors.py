"""Which file sources have something new: the landing folder against what the sensor saw last time (newest
modification time in its cursor). The fast lane (reverse_etl/sensors.py) acts on it."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from revops.landing.files import SOURCES, source_files

from dagster_project.defs.common.resources import WAREHOUSE_WRITER_TAGS

from .assets import file_landing_assets

# every file source at once, by hand or from the daily full run
file_landing_job = dg.define_asset_job("land_files", selection=dg.AssetSelection.assets(*file_landing_assets),
                                       tags=WAREHOUSE_WRITER_TAGS,
                                       executor_def=dg.in_process_executor)


def changed_file_sources(root: Path, since_ns: int) -> tuple[list[str], int]:
    """The file sources with a file modified after `since_ns`, and the newest modification time seen."""
    newest, changed = since_ns, []
    for name, src in SOURCES.items():
        latest = max((p.stat().st_mtime_ns for p in source_files(src, root)), default=0)
        if latest > since_ns:
            changed.append(name)
            newest = max(newest, latest)
    return changed, newest
