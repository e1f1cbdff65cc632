"""`revops eval` (the warehouse against a sandbox world's truth) and `revops calibrate` (weights from history)."""

from __future__ import annotations

from pathlib import Path

import typer

from revops import settings
from revops.cli.app import calibrate_app, eval_app
from revops.cli.common import _built, _warehouse_file, _world_with_truth



@eval_app.command("identity")
def eval_identity(
    world: Path = typer.Option(None, help="The world whose truth to score against. Default $REVOPS_WORLD_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
) -> None:
    """Pairwise precision, recall and F1 of persons and accounts against the truth, the over-merged and split
    counts by the rule or reason behind them; appended to eval.identity_metrics and eval.identity_errors."""
    from revops.warehouse import connect

    from revops.evaluation.identity import evaluate_warehouse, record

    world = _world_with_truth(world, "identifiers.csv")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            result = evaluate_warehouse(con, world)
            record(con, world, result)
    finally:
        con.close()
    typer.echo(f"{'scope':<8} {'subset':<32} {'items':>9} {'precision':>9} {'recall':>7} {'f1':>7} "
               f"{'over-merged':>11} {'split':>7}")
    for m in result["metrics"]:
        typer.echo(f"{m['scope']:<8} {m['subset']:<32} {m['items']:>9,} {m['precision']:>9.4f} {m['recall']:>7.4f} "
                   f"{m['f1']:>7.4f} {m['over_merged_clusters']:>11,} {m['split_true']:>7,}")
    typer.echo("errors by cause:")
    for e in result["errors"]:
        typer.echo(f"  {e['error']:<20} {e['cause']:<22} {e['count']:>8,}")
    typer.echo(f"written to eval.identity_metrics and eval.identity_errors in {db}")




@calibrate_app.command("scoring")
def calibrate_scoring(
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    window_days: int = typer.Option(30, help="Features as of this many days before as_of; outcomes after."),
) -> None:
    """Fit the ICP points and signal weights from past deals (logistic regression) and write
    config.icp_rules_calibrated / config.signal_weights_calibrated; build with REVOPS_SCORING_WEIGHTS=calibrated."""
    from revops.warehouse import connect

    from revops.calibration.scoring import calibrate

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            res = calibrate(con, window_days=window_days)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--window-days") from e
    finally:
        con.close()
    typer.echo(f"{res['people']:,} people, {res['positives']:,} with a deal in the {window_days} days after the "
               f"feature date; {res['points_per_log_odds']:.2f} points per unit of log-odds")
    for row in res["signal_weights"].select("signal_type", "weight").rows():
        typer.echo(f"  signal {row[0]:<26} weight {row[1]:>6}")
    for row in res["icp_rules"].select("dimension", "match_value", "min_value", "max_value", "points").rows():
        level = row[1] if row[1] is not None else f"{row[2]}-{'' if row[3] is None else row[3]}"
        typer.echo(f"  fit {row[0]:<10} {level:<24} points {row[4]:>6}")
    typer.echo("written to config.icp_rules_calibrated and config.signal_weights_calibrated")


@eval_app.command("scoring")
def eval_scoring(
    world: Path = typer.Option(None, help="The world whose truth to score against. Default $REVOPS_WORLD_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    weights: str = typer.Option("hand_set", help="Label for the weights the warehouse was built with."),
) -> None:
    """AUC of lead_score for the true 30-day outcome beside the oracle AUC of the generator's propensity on the
    same people, precision of grade A, top-decile lift; the route and stage distribution of the stage map.
    Appended to eval.scoring_metrics."""
    from revops.warehouse import connect

    from revops.evaluation.scoring import distributions, evaluate_scoring, record

    world = _world_with_truth(world, "persons.csv")
    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            m = evaluate_scoring(con, world)
            dist = distributions(con)
            record(con, world, weights, m)
    finally:
        con.close()
    typer.echo(f"{m['people']:,} people, {m['positives']:,} with an opportunity in the 30 days after as_of "
               f"({m['base_rate']:.1%})")
    typer.echo(f"AUC lead_score {m['auc_lead_score']:.4f}   oracle (generator propensity) "
               f"{m['auc_oracle_propensity']:.4f}   gap {m['auc_oracle_propensity'] - m['auc_lead_score']:.4f}")
    typer.echo(f"AUC fit only {m['auc_fit_only']:.4f}, intent only {m['auc_intent_only']:.4f}")
    typer.echo(f"grade A: {m['grade_a_people']:,} people, precision {m['grade_a_precision']:.4f}; top decile "
               f"{m['top_decile_rate']:.1%} = lift {m['top_decile_lift']:.2f}")
    typer.echo("grades: " + ", ".join(f"{g} {n:,}" for g, n in m["grades"].items()))
    typer.echo("routes: " + ", ".join(f"{r} {n:,}" for r, n in dist["routes"].items()))
    typer.echo("stages: " + ", ".join(f"{s} {n:,}" for s, n in dist["stages"].items()))
    typer.echo(f"written to eval.scoring_metrics in {db}")
