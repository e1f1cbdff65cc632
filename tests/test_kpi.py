"""KPI marts on the S world (the `two_day_build` of conftest): the deliverability counts, trailing sums and kill
switch equal the world's truth day by day, and the degrading domain is paused on the day the generator expects."""

import json

import duckdb
import polars as pl


def test_deliverability_and_kill_switch_equal_the_truth(two_day_build, world_s):
    con = duckdb.connect(str(two_day_build[0]), read_only=True)
    ours = pl.from_arrow(con.sql("""
        select sending_domain, day_utc as day, sends, bounces, complaints, unsubscribes, sends_7d, bounces_7d,
               complaints_7d, is_paused as paused
        from fct_deliverability_daily""").to_arrow_table())
    status = dict(con.execute("select sending_domain, status from dim_sending_domain_status").fetchall())
    con.close()
    truth = pl.read_csv(world_s / "truth" / "deliverability_daily.csv", try_parse_dates=True)
    cols = ["sends", "bounces", "complaints", "unsubscribes", "sends_7d", "bounces_7d", "complaints_7d", "paused"]
    joined = truth.join(ours, on=["sending_domain", "day"], how="left", suffix="_ours")
    assert joined.height == truth.height > 60 and joined["sends_ours"].null_count() == 0
    for c in cols:
        assert (joined[c] == joined[f"{c}_ours"]).all(), (c, joined.filter(joined[c] != joined[f"{c}_ours"]).head())
    # the generator's degrading domain: first paused on the expected day
    expected = json.loads((world_s / "truth" / "phenomena.json").read_text())["deliverability"]["first_paused_day"]
    for domain, day in expected.items():
        first = ours.filter((pl.col("sending_domain") == domain) & pl.col("paused"))["day"].min()
        assert str(first) == day
    assert set(truth["sending_domain"].unique()) <= set(status)
