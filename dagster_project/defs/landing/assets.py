"""One landing asset per file source (DESIGN 3.2-3.5), writing `raw.<source>` of the warehouse."""

import dagster as dg

from revops.landing.files import SOURCES, FileSource, ensure_schema, land_source

from .resources import WarehouseResource


def _file_source_asset(src: FileSource) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", src.name],
        group_name="landing",
        kinds={"duckdb"},
        description=f"`{src.pattern}` below the landing folder, validated ({src.model.__name__}), "
                    "deduplicated on its delivery key; bad records in raw.quarantine.",
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        with warehouse.connect() as con:
            ensure_schema(con)
            results = land_source(con, src, warehouse.landing_root(),
                                  on_file=lambda r: r.skipped or context.log.info(
                                      f"{r.path}: read {r.read}, landed {r.landed}, quarantined {r.quarantined}, "
                                      f"duplicates {r.duplicates}"))
            total = con.execute(f"select count(*) from raw.{src.name}").fetchone()[0]
        new = [r for r in results if not r.skipped]
        return dg.MaterializeResult(metadata={
            "files_landed": len(new),
            "files_skipped": len(results) - len(new),
            "rows_read": sum(r.read for r in new),
            "rows_landed": sum(r.landed for r in new),
            "rows_quarantined": sum(r.quarantined for r in new),
            "rows_duplicate": sum(r.duplicates for r in new),
            "table_rows": total,
        })

    return _asset


file_landing_assets = [_file_source_asset(src) for src in SOURCES.values()]
