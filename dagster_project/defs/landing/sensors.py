"""A sensor that lands new or changed files: it compares the landing folder with what it saw last time
(newest modification time in its cursor) and asks for a run of the sources that have something new."""

import dagster as dg

from revops.landing.files import SOURCES, source_files

from .assets import file_landing_assets
from dagster_project.defs.common.resources import WarehouseResource

file_landing_job = dg.define_asset_job("land_files", selection=dg.AssetSelection.assets(*file_landing_assets))


@dg.sensor(job=file_landing_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def new_landing_files(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    since = int(context.cursor or 0)
    newest, changed = since, []
    root = warehouse.landing_root()
    for name, src in SOURCES.items():
        mtimes = [p.stat().st_mtime_ns for p in source_files(src, root)]
        latest = max(mtimes, default=0)
        if latest > since:
            changed.append(name)
            newest = max(newest, latest)
    if not changed:
        return dg.SkipReason(f"no file newer than the cursor in {root}")
    context.update_cursor(str(newest))
    # a file that was already landed with the same checksum is skipped by the asset, so a spurious run is cheap
    return dg.RunRequest(run_key=f"files-{newest}",
                         asset_selection=[dg.AssetKey(["raw", n]) for n in changed])
