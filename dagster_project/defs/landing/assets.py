"""One landing asset per file source (docs/landing.md), writing `raw.<source>` of the warehouse."""

import dagster as dg

from revops.landing.files import SOURCES, FileSource, ensure_schema, land_source
from revops.landing.report import missing_providers

from dagster_project.defs.common.resources import WarehouseResource

FILES_READABLE = "files_readable"


def _file_source_asset(src: FileSource) -> dg.AssetsDefinition:
    key = dg.AssetKey(["raw", src.name])

    @dg.asset(
        key=key,
        group_name="landing",
        kinds={"duckdb"},
        description=f"`{src.pattern}` below the landing folder, checked against its landing contract "
                    "(revops/landing/contracts.py) in bulk, deduplicated on its delivery key, conflicts kept and "
                    "counted; bad records in raw.quarantine.",
        check_specs=[dg.AssetCheckSpec(FILES_READABLE, asset=key,
                                       description="Every file of the source could be read (not a corrupt gzip, "
                                                   "not a symlink out of the landing folder). A file that could "
                                                   "not is one row in raw.quarantine; the rest landed.")],
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            ensure_schema(con)
            results = land_source(con, src, warehouse.landing_root(),
                                  on_file=lambda r: r.skipped or r.problem or context.log.info(
                                      f"{r.path}: read {r.read}, landed {r.landed}, quarantined {r.quarantined}, "
                                      f"duplicates {r.duplicates}, conflicting {r.conflicting}"))
            total = con.execute(f"select count(*) from raw.{src.name}").fetchone()[0]
        new = [r for r in results if not r.skipped and not r.problem]
        problems = [r for r in results if r.problem]
        for r in problems:
            context.log.error(f"{r.path}: {r.problem}")
        unranked = missing_providers({r.provider for r in results if r.provider})
        for p in unranked:
            context.log.warning(f"enrichment provider '{p}' is not in seeds/enrichment_precedence.csv: its values "
                                "count after the listed providers")
        return dg.MaterializeResult(
            metadata={
                "files_landed": len(new),
                "files_skipped": len(results) - len(new) - len(problems),
                "files_not_readable": len(problems),
                "rows_read": sum(r.read for r in new),
                "rows_landed": sum(r.landed for r in new),
                "rows_quarantined": sum(r.quarantined for r in new),
                "rows_duplicate": sum(r.duplicates for r in new),
                "rows_conflicting": sum(r.conflicting for r in new),
                "table_rows": total,
                **({"unranked_providers": ", ".join(unranked)} if unranked else {}),
            },
            check_results=[dg.AssetCheckResult(
                check_name=FILES_READABLE, passed=not problems, severity=dg.AssetCheckSeverity.WARN,
                metadata={"files": "\n".join(f"{r.path}: {r.problem}" for r in problems[:50]) or "none",
                          "count": len(problems)})],
        )

    return _asset


file_landing_assets = [_file_source_asset(src) for src in SOURCES.values()]
