"""`dbt build` through Dagster, as `revops build` runs it: the same dbt asset a scheduled run materializes, plus
the dashboard snapshot when marts were built, recorded in the Dagster instance ($DAGSTER_HOME) when one is set."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class SelectsNothing(ValueError):
    """A dbt selection that matches no node."""


@dataclass
class BuildOutcome:
    success: bool
    built: list[str] = field(default_factory=list)  # dbt nodes materialized
    snapshot_path: str | None = None  # the dashboard snapshot published, if any
    failures: list[tuple[str, str]] = field(default_factory=list)  # (step, error message)


# The models the reverse ETL reads: the fast lane builds only what lies between new data and them.
SYNC_MODELS = ("sync_hubspot__contacts", "sync_hubspot__companies", "sync_hubspot__tasks")


def sync_path_select(source_selectors: list[str]) -> str:
    """dbt selection of the models downstream of the sources and upstream of a sync model (KPI marts, attribution
    and the dashboard's marts wait for the next state-aware build)."""
    return " ".join(f"{src}+,+{model}" for src in source_selectors for model in SYNC_MODELS)


def dbt_keys(select: str | None):
    """The Dagster asset keys of a dbt selection (None: every dbt asset)."""
    import dagster as dg
    from dagster_dbt import build_dbt_asset_selection

    from dagster_project.defs.dbt.assets import dbt_warehouse

    selection = (build_dbt_asset_selection([dbt_warehouse], dbt_select=select) if select
                 else dg.AssetSelection.assets(dbt_warehouse))
    return selection.resolve([dbt_warehouse])


def dbt_run_config(unit_tests: bool) -> dict:
    from dagster_project.defs.dbt.assets import dbt_warehouse

    return {"ops": {dbt_warehouse.op.name: {"config": {"unit_tests": unit_tests}}}}


def build(select: str | None = None, unit_tests: bool = True) -> BuildOutcome:
    import dagster as dg
    from dagster_dbt import build_dbt_asset_selection

    from dagster_project.definitions import defs
    from dagster_project.defs.dashboard.assets import MART_KEYS, dashboard_snapshot
    from dagster_project.defs.dbt.assets import dbt_warehouse

    selection = (build_dbt_asset_selection([dbt_warehouse], dbt_select=select) if select
                 else dg.AssetSelection.assets(dbt_warehouse))
    if select and not selection.resolve([dbt_warehouse]):
        raise SelectsNothing(select)
    # a build that touches marts publishes the dashboard's snapshot after them (a failed build publishes nothing:
    # the dashboard keeps the last good one)
    if selection.resolve([dbt_warehouse]) & set(MART_KEYS):
        selection = selection | dg.AssetSelection.assets(dashboard_snapshot)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = dg.materialize([dbt_warehouse, dashboard_snapshot], selection=selection, resources=defs.resources,
                            instance=instance, raise_on_error=False, run_config=dbt_run_config(unit_tests))
    out = BuildOutcome(result.success)
    for ev in result.get_asset_materialization_events():
        key = ev.asset_key.to_user_string()
        if key == "dashboard_snapshot":
            out.snapshot_path = str(ev.materialization.metadata["path"].value)
        else:
            out.built.append(key)
    out.failures = [(ev.step_key, ev.event_specific_data.error.message.strip())
                    for ev in result.get_step_failure_events()]
    return out
