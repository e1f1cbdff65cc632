"""Soda contracts as Dagster asset checks: one blocking `soda_contract` check per raw table, so a landing that
breaks its contract stops the assets downstream of it in the same run (staging, and later the CRM sync)."""

import json
from pathlib import Path

import dagster as dg

from dagster_project.defs.landing.resources import WarehouseResource

from .soda import contract_files, verify


def _soda_check(table: str, contract: Path) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", table]),
        name="soda_contract",
        blocking=True,
        description=f"Soda contract {contract.parent.name}/{contract.name}: schema, keys not null and unique, "
                    "value rules, freshness of the last landing.",
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


raw_contract_checks = [_soda_check(table, path) for table, path in contract_files("raw").items()]
