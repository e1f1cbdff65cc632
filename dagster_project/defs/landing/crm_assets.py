"""CRM extraction as one multi-asset: one asset key per CRM object."""

import dagster as dg

from revops.hubspot import HubSpotClient
from revops.landing.crm import OBJECTS, extract_all

from dagster_project.defs.common.resources import WarehouseResource

CRM_KEYS = {obj: dg.AssetKey(["raw", f"crm_{obj}"]) for obj in [*OBJECTS, "owners", "associations"]}


@dg.multi_asset(
    specs=[dg.AssetSpec(key, group_name="landing", kinds={"duckdb"},
                        description=f"HubSpot {obj} through the CRM v3 API, incremental by last-modified cursor")
           for obj, key in CRM_KEYS.items()],
    can_subset=False,
)
def crm_extraction(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect() as con, HubSpotClient() as client:
        res = extract_all(con, client)
        stats = dict(client.stats)
    yield dg.MaterializeResult(asset_key=CRM_KEYS["associations"], metadata={
        "table_rows": sum(r.extra.get("associations", 0) for r in res.values())})
    for obj, r in res.items():
        yield dg.MaterializeResult(asset_key=CRM_KEYS[obj], metadata={
            "rows_read": r.read, "rows_landed": r.landed, "rows_unchanged": r.duplicates,
            "rows_echo": r.echoes,
            "rows_quarantined": r.quarantined, "pages": r.pages, "windows": r.windows,
            "archived": r.extra.get("archived", 0), "requests": stats["requests"], "retries": stats["retries"]})
