"""Soda contracts as Dagster asset checks: one blocking `soda_contract` check per contracted table — each raw table
(a landing that breaks its contract stops staging and everything after it in the same run) and the KPI marts
(ranges and sums the dashboard and the CRM sync rely on)."""

import json
from pathlib import Path

import dagster as dg

from dagster_project.defs.common.resources import WarehouseResource

from .soda import contract_files, verify


def _soda_check(layer: str, table: str, contract: Path) -> dg.AssetChecksDefinition:
    # landing assets are keyed raw/<table>; dbt models by their name
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table] if layer == "raw" else [table]),
        name="soda_contract",
        blocking=True,
        description=f"Soda contract {contract.parent.name}/{contract.name}: schema, keys, value ranges and rules"
                    + (", freshness of the last landing." if layer == "raw" else "."),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            outcome = verify(con, contract)
        metadata = {
            "checks": len(outcome.checks),
            "failed": json.dumps([c.name for c in outcome.failed_checks]),
            "outcomes": dg.MetadataValue.json({c.name: {"outcome": c.outcome, **c.metrics} for c in outcome.checks}),
        }
        if outcome.errors:
            metadata["errors"] = dg.MetadataValue.text(outcome.errors)
        return dg.AssetCheckResult(passed=outcome.passed, metadata=metadata,
                                   severity=dg.AssetCheckSeverity.ERROR)

    return _check


raw_contract_checks = [_soda_check("raw", table, path) for table, path in contract_files("raw").items()]
mart_contract_checks = [_soda_check("marts", table, path) for table, path in contract_files("marts").items()]
