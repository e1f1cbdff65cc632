"""Soda contracts (`contracts/<layer>/<table>.yml`) verified against the warehouse's DuckDB connection.

One function serves the Dagster asset checks and `revops check`, so both report the same outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

CONTRACTS_DIR = Path(__file__).parent / "contracts"
# the data-source name the contracts' `dataset: warehouse/<schema>/<table>` refers to
DATA_SOURCE_NAME = "warehouse"


@dataclass
class CheckOutcome:
    name: str  # e.g. "record_key: duplicate"
    outcome: str  # PASSED | FAILED | WARNED | NOT_EVALUATED
    metrics: dict = field(default_factory=dict)


@dataclass
class ContractOutcome:
    table: str  # "<schema>.<table>"
    contract: Path
    checks: list[CheckOutcome]
    errors: str  # parse or execution errors; a contract that errors has not passed

    @property
    def passed(self) -> bool:
        return not self.errors and all(c.outcome in ("PASSED", "WARNED") for c in self.checks)

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.outcome not in ("PASSED", "WARNED")]


def contract_files(layer: str) -> dict[str, Path]:
    """Table name -> contract file, for one layer (schema) of the warehouse."""
    return {p.stem: p for p in sorted((CONTRACTS_DIR / layer).glob("*.yml"))}


def _plain(v):
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


def warehouse_now(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warehouse's as_of (main.int_as_of_dated) as ISO 8601 UTC: the NOW the mart contracts' freshness uses."""
    try:
        rows = con.execute("select as_of from main.int_as_of_dated").fetchall()
    except duckdb.Error:
        return None
    return rows[0][0].isoformat() + "+00:00" if rows and rows[0][0] else None


def verify(con: duckdb.DuckDBPyConnection, contract: Path, variables: dict[str, str | float] | None = None) -> ContractOutcome:
    # imported here: soda pulls in a large dependency tree that definitions loading does not need
    from soda_core.contracts import verify_contract_locally
    from soda_duckdb import DuckDBDataSource

    logging.getLogger("soda").setLevel(logging.WARNING)
    if contract.parent.name == "marts" and "NOW" not in (variables or {}):
        now = warehouse_now(con)
        variables = {**(variables or {}), **({"NOW": now} if now else {})}
    session = verify_contract_locally(
        data_sources=[DuckDBDataSource.from_existing_cursor(con.cursor(), name=DATA_SOURCE_NAME)],
        contract_file_path=str(contract),
        variables=variables,
    )
    checks: list[CheckOutcome] = []
    for result in session.contract_verification_results:
        for cr in result.check_results:
            where = cr.check.column_name or "table"
            checks.append(CheckOutcome(
                name=f"{where}: {cr.check.type}",
                outcome=cr.outcome.name,
                metrics={k: _plain(v) for k, v in (cr.diagnostic_metric_values or {}).items()},
            ))
    errors = session.get_errors_str() if session.has_errors else ""
    return ContractOutcome(table=f"{contract.parent.name}.{contract.stem}", contract=contract,
                           checks=checks, errors=errors)
