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
) -> None:
    """Learn the lead score from the warehouse's own history (scikit-learn logistic regression on features as of
    past cut-offs, regularization by time-ordered cross-validation, isotonic calibration, a held-out later period) and
    write config.icp_rules_calibrated, config.signal_weights_calibrated, config.scoring_model_calibrated and
    config.scoring_curve_calibrated; build
    with REVOPS_SCORING_WEIGHTS=calibrated to score with them (p_opportunity_30d). The label window is the dbt var
    scoring_label_window_days, which also places the cut-offs."""
    from revops.warehouse import connect

    from revops.calibration.scoring import CalibrationError, calibrate, describe_level

    db = _warehouse_file(duckdb_path or settings.duckdb_path())
    con = connect(db)
    try:
        with _built(db):
            res = calibrate(con)
    except CalibrationError as e:
        # too short a history: exit 2, nothing written
        raise typer.BadParameter(str(e), param_hint="the warehouse's history") from None
    finally:
        con.close()
    h = res["held_out"]
    typer.echo(f"{res['examples']:,} examples at {len(res['cutoffs'])} cut-offs "
               f"({', '.join(str(c) for c in res['cutoffs'])} days before as_of), {res['positives']:,} followed by an "
               f"opportunity within {res['window_days']} days")
    typer.echo("time-ordered CV log loss by C: " + ", ".join(f"{c:g} {v:.4f}" for c, v in res["cv_log_loss"].items())
               + f"; chosen C {res['regularization_c']:g}")
    typer.echo(f"held out: cut-off {h['cutoff_days_before_as_of']} days before as_of, {h['people']:,} people, "
               f"{h['positives']:,} opportunities; trained on cut-offs {', '.join(map(str, h['trained_on']))}: "
               f"AUC {h['auc']:.4f}, Brier {h['brier']:.4f}")
    _print_reliability(h["reliability"])
    typer.echo(f"logit = {res['intercept_log_odds']:.4f} + points / {res['points_per_log_odds']:.4f} (trend "
               f"{res['trend_log_odds_per_30_days']:+.4f} log-odds per 30 days, at as_of); isotonic calibration "
               f"curve of {res['curve'].height} segments")
    for row in res["signal_weights"].select("signal_type", "weight").rows():
        typer.echo(f"  signal {row[0]:<26} weight {row[1]:>8.2f}")
    for row in res["icp_rules"].iter_rows(named=True):
        typer.echo(f"  fit {row['dimension']:<10} {describe_level(row):<24} points {row['points']:>8.2f}")
    typer.echo("written to config.icp_rules_calibrated, config.signal_weights_calibrated, "
               "config.scoring_model_calibrated and config.scoring_curve_calibrated")


def _print_reliability(rows: list[dict]) -> None:
    typer.echo(f"  {'predicted':<11} {'people':>8} {'mean predicted':>15} {'observed':>9} {'gap':>7}")
    for r in rows:
        if r["people"]:
            typer.echo(f"  {r['lower']:.1f}-{r['upper']:.1f}     {r['people']:>8,} {r['mean_predicted']:>15.4f} "
                       f"{r['observed_rate']:>9.4f} {r['gap']:>7.4f}")


@eval_app.command("scoring")
def eval_scoring(
    world: Path = typer.Option(None, help="The world whose truth to score against. Default $REVOPS_WORLD_DIR."),
    duckdb_path: Path = typer.Option(None, "--duckdb", help="Default $REVOPS_DUCKDB_PATH."),
    weights: str = typer.Option(None, help="Label for the weights the warehouse was built with. "
                                           "Default $REVOPS_SCORING_WEIGHTS, else hand_set."),
) -> None:
    """AUC of the built lead_score for the true 30-day outcome beside the oracle (the generator's propensity); the
    hand-set and calibrated scores recomputed on the same people (calibrated AUC, Brier score, 10-bin reliability,
    top-decile lift) beside the bound (a 5-fold cross-validated model on the truth labels over the same features);
    grade-A precision; the route and stage distribution of the stage map. Appended to eval.scoring_metrics."""
    import os

    from revops.warehouse import connect

    from revops.evaluation.scoring import distributions, evaluate_scoring, record

    weights = weights or os.environ.get("REVOPS_SCORING_WEIGHTS", "hand_set")
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
    typer.echo(f"{m['people']:,} people without an earlier opportunity, {m['positives']:,} with one in the 30 days "
               f"after as_of ({m['base_rate']:.1%})")
    typer.echo(f"AUC lead_score {m['auc_lead_score']:.4f} (built with {weights} weights)   oracle (generator "
               f"propensity) {m['auc_oracle_propensity']:.4f}   gap {m['auc_oracle_propensity'] - m['auc_lead_score']:.4f}")
    typer.echo(f"AUC fit only {m['auc_fit_only']:.4f}, intent only {m['auc_intent_only']:.4f}")
    cal = "not calibrated yet" if m["auc_calibrated"] is None else f"{m['auc_calibrated']:.4f}"
    bound = "-" if m["auc_bound"] is None else f"{m['auc_bound']:.4f}"
    typer.echo(f"calibrated AUC {cal}   hand-set AUC {m['auc_hand_set']:.4f}   bound {bound} "
               f"(5-fold CV on the truth labels, same features)")
    if m["auc_calibrated"] is not None:
        typer.echo(f"Brier {m['brier_calibrated']:.4f}; mean predicted {m['mean_predicted']:.4f} vs observed "
                   f"{m['base_rate']:.4f}; top decile by p_opportunity_30d: lift {m['top_decile_lift_calibrated']:.2f}; "
                   f"calibrated grade A: {m['grade_a_people_calibrated']:,} people, precision "
                   f"{m['grade_a_precision_calibrated']:.4f}")
        typer.echo("reliability of p_opportunity_30d:")
        _print_reliability(m["reliability"])
    typer.echo(f"grade A (as built): {m['grade_a_people']:,} people, precision {m['grade_a_precision']:.4f}; top "
               f"decile by lead_score {m['top_decile_rate']:.1%} = lift {m['top_decile_lift']:.2f}")
    typer.echo("grades: " + ", ".join(f"{g} {n:,}" for g, n in m["grades"].items()))
    typer.echo("routes: " + ", ".join(f"{r} {n:,}" for r, n in dist["routes"].items()))
    typer.echo("stages: " + ", ".join(f"{s} {n:,}" for s, n in dist["stages"].items()))
    typer.echo(f"written to eval.scoring_metrics in {db}")
