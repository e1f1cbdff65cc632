"""Identity resolution scored against the sandbox truth (docs/landing.md, 4): pairwise precision, recall and F1.

Items are identifier nodes, `<identifier_type>:<normalized value>` (the keys of `bridge_person_identifier`): the
truth lists identifiers as each source wrote them, and variants that normalize to one node (case, `+tag`) count
once. Shared role mailboxes have no true person and are left out of the pairs; they are checked separately
(`role_bridges`). A truth identifier the warehouse never saw is its own predicted cluster (`unseen`)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from revops.evaluation.normalize import normalize_email
from revops.warehouse import frame

ID_TYPES = ("crm_contact_id", "email", "segment_user_id", "segment_anonymous_id", "prospect_id")


def truth_nodes(world: Path) -> pl.DataFrame:
    """identifier_id, true_person_id (majority when variants of one node disagree), is_shared_role_address."""
    t = pl.read_csv(world / "truth" / "identifiers.csv", infer_schema_length=0)
    t = t.with_columns(
        value=pl.when(pl.col("identifier_type") == "email")
        .then(pl.col("identifier").map_elements(normalize_email, return_dtype=pl.String))
        .otherwise(pl.col("identifier").str.strip_chars()),
        is_shared_role_address=pl.col("is_shared_role_address") == "true",
    ).with_columns(identifier_id=pl.col("identifier_type") + ":" + pl.col("value"))
    return (t.filter(pl.col("value").is_not_null())
            .group_by("identifier_id")
            .agg(true_person_id=pl.col("true_person_id").drop_nulls().mode().first(),
                 true_persons=pl.col("true_person_id").drop_nulls().n_unique(),
                 is_shared_role_address=pl.col("is_shared_role_address").any()))


def _pairs(col: pl.Expr) -> pl.Expr:
    return (col * (col - 1) / 2).sum()


def pairwise(pred: pl.DataFrame, truth: pl.DataFrame, item: str = "identifier_id",
             pred_col: str = "cluster_id", true_col: str = "true_person_id") -> dict:
    """Pairwise scores of `pred` (item -> cluster) against `truth` (item -> true cluster), over the truth's items
    that have a true cluster. Items missing from `pred` are singletons."""
    items = truth.filter(pl.col(true_col).is_not_null()).select(item, true_col)
    joined = items.join(pred.select(item, pred_col), on=item, how="left")
    unseen = joined.filter(pl.col(pred_col).is_null()).height
    joined = joined.with_columns(pl.col(pred_col).fill_null(pl.lit("unseen:") + pl.col(item)))
    tp = joined.group_by(pred_col, true_col).len().select(_pairs(pl.col("len"))).item() or 0
    pred_pairs = joined.group_by(pred_col).len().select(_pairs(pl.col("len"))).item() or 0
    true_pairs = joined.group_by(true_col).len().select(_pairs(pl.col("len"))).item() or 0
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    per_pred = joined.group_by(pred_col).agg(n_true=pl.col(true_col).n_unique())
    per_true = joined.group_by(true_col).agg(n_pred=pl.col(pred_col).n_unique())
    return {
        "items": joined.height, "unseen": unseen,
        "precision": precision, "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "true_pairs": int(true_pairs), "predicted_pairs": int(pred_pairs), "correct_pairs": int(tp),
        # a predicted cluster holding two or more true persons, and a true person spread over several clusters
        "over_merged_clusters": per_pred.filter(pl.col("n_true") > 1).height,
        "split_true": per_true.filter(pl.col("n_pred") > 1).height,
    }


def true_person_owners(con, world: Path) -> pl.DataFrame:
    """true_person_id -> person_id: the warehouse person holding most of the true person's identifiers (ties: the
    smallest person_id). How per-person figures (accounts, scores) are compared with the truth."""
    truth = truth_nodes(world).filter(~pl.col("is_shared_role_address") & pl.col("true_person_id").is_not_null())
    bridge = frame(con, "select identifier_id, person_id from bridge_person_identifier")
    return (truth.join(bridge, on="identifier_id")
            .group_by("true_person_id", "person_id").len()
            .sort(["true_person_id", "len", "person_id"], descending=[False, True, False])
            .unique("true_person_id", keep="first")
            .select("true_person_id", "person_id"))


def evaluate_warehouse(con, world: Path) -> dict:
    """Score the warehouse's identity marts against the world's truth. Returns {"metrics": [...], "errors": [...]}
    rows ready for the eval tables."""
    truth = truth_nodes(world)
    bridge = frame(con, """
        with edge_ends as (
            select identifier_id_a as identifier_id from fct_identity_edges
            union
            select identifier_id_b from fct_identity_edges
        )
        select b.identifier_id, b.person_id as cluster_id, r.first_pass_cluster_id, r.is_oversized_cluster,
               e.identifier_id is not null as has_edge
        from bridge_person_identifier b
        join int_identifiers_resolved r using (identifier_id)
        left join edge_ends e using (identifier_id)""")
    metrics, errors = [], []

    # persons, over every identifier of the truth, and over those some source record ties to another identifier
    # "linked in sources": a landed record carries the identifier together with another one (an identifier only
    # in quarantined records, or a visitor never identified, gives a resolver nothing to go on)
    linked = bridge.filter(pl.col("has_edge")).select("identifier_id")
    person_truth = truth.filter(~pl.col("is_shared_role_address"))
    for subset, t in (("all_identifiers", person_truth),
                      ("linked_in_sources", person_truth.join(linked, on="identifier_id", how="semi"))):
        metrics.append({"scope": "person", "subset": subset, **pairwise(bridge, t)})

    # role addresses never merge two true persons: a person holding a shared mailbox has at most one true person
    roles = truth.filter(pl.col("is_shared_role_address")).join(bridge, on="identifier_id")
    role_persons = (person_truth.join(bridge, on="identifier_id")
                    .filter(pl.col("cluster_id").is_in(roles["cluster_id"].implode()))
                    .group_by("cluster_id").agg(pl.col("true_person_id").n_unique().alias("n")))
    role_bridges = role_persons.filter(pl.col("n") > 1).height

    # accounts: each true person, through the warehouse person holding most of their identifiers, against the
    # account the truth says they are at now
    persons_csv = pl.read_csv(world / "truth" / "persons.csv", infer_schema_length=0)
    owner = (true_person_owners(con, world)
             .join(frame(con, "select person_id, account_id from dim_person"), on="person_id", how="left")
             .join(persons_csv.select("true_person_id", "true_account_id"), on="true_person_id"))
    acc_pred = owner.select(identifier_id="true_person_id",
                            cluster_id=pl.col("account_id").fill_null(pl.lit("none:") + pl.col("true_person_id")))
    acc_truth = owner.select(identifier_id="true_person_id", true_person_id="true_account_id")
    # a person known only by anonymous sessions or a personal address has no company evidence at all
    with_evidence = owner.filter(pl.col("account_id").is_not_null()).select(identifier_id="true_person_id")
    for subset, t in (("resolved_persons", acc_truth),
                      ("persons_with_company_evidence", acc_truth.join(with_evidence, on="identifier_id", how="semi"))):
        metrics.append({"scope": "account", "subset": subset, **pairwise(acc_pred, t)})

    # accounts as docs/identity.md defines them: what a person does belongs to the account they were at when it happened.
    # Each identifier is judged at its first sighting: the account it points at itself, else the warehouse's account
    # for its person valid then (else the person's earliest), against the true person's account then (the first
    # one before a job change).
    at_time = frame(con, """
        with ids as (
            select b.identifier_id, b.person_id, b.first_seen_at, b.account_id as own_account_id
            from bridge_person_identifier b
        ),
        candidates as (
            select ids.identifier_id, a.account_id,
                   row_number() over (partition by ids.identifier_id
                                      order by (a.valid_from <= ids.first_seen_at) desc,
                                               case when a.valid_from <= ids.first_seen_at then a.valid_from end desc,
                                               a.valid_from) as pick
            from ids join int_person_accounts_dated a on a.person_id = ids.person_id
        )
        select ids.identifier_id, ids.first_seen_at, coalesce(ids.own_account_id, c.account_id) as account_id
        from ids left join candidates c on c.identifier_id = ids.identifier_id and c.pick = 1""")
    # a job changer's work addresses belong to their own company whenever they are used: the old address to the
    # first account, the new one to the current account; everything else is judged by when it was first seen
    mailboxes = pl.concat([
        persons_csv.select(pl.col("work_email").alias("email"), pl.col("first_account_id").alias("mailbox_account")),
        persons_csv.select(pl.col("new_work_email").alias("email"), pl.col("true_account_id").alias("mailbox_account")),
    ]).drop_nulls("email").with_columns(
        identifier_id=pl.lit("email:") + pl.col("email").map_elements(normalize_email, return_dtype=pl.String)
    ).unique("identifier_id").select("identifier_id", "mailbox_account")
    then = (person_truth.join(linked, on="identifier_id", how="semi").join(at_time, on="identifier_id")
            .join(persons_csv.select("true_person_id", "true_account_id", "first_account_id",
                                     pl.col("job_changed_at").str.to_datetime(time_zone="UTC")
                                     .dt.replace_time_zone(None)), on="true_person_id")
            .join(mailboxes, on="identifier_id", how="left")
            .with_columns(account_then=pl.when(pl.col("mailbox_account").is_not_null())
                          .then(pl.col("mailbox_account"))
                          .when(pl.col("job_changed_at").is_not_null()
                                & (pl.col("first_seen_at") < pl.col("job_changed_at")))
                          .then(pl.col("first_account_id")).otherwise(pl.col("true_account_id"))))
    pred_then = then.select("identifier_id",
                            cluster_id=pl.col("account_id").fill_null(pl.lit("none:") + pl.col("identifier_id")))
    truth_then = then.select("identifier_id", true_person_id="account_then")
    metrics.append({"scope": "account", "subset": "identifiers_at_the_time", **pairwise(pred_then, truth_then)})

    # errors by cause: applied edges whose ends belong to different true persons, by rule ...
    edges = frame(con, "select identifier_id_a, identifier_id_b, rule from fct_identity_edges where is_applied")
    tp = person_truth.select("identifier_id", "true_person_id")
    wrong = (edges.join(tp.rename({"identifier_id": "identifier_id_a", "true_person_id": "ta"}), on="identifier_id_a")
             .join(tp.rename({"identifier_id": "identifier_id_b", "true_person_id": "tb"}), on="identifier_id_b")
             .filter(pl.col("ta") != pl.col("tb")))
    for rule, n in sorted(wrong.group_by("rule").len().rows()):
        errors.append({"error": "over_merge", "cause": rule, "count": n})
    if wrong.height == 0:
        errors.append({"error": "over_merge", "cause": "(none)", "count": 0})
    errors.append({"error": "role_address_bridge", "cause": "role_or_junk_address", "count": role_bridges})
    # ... and true persons split over several persons, by why the smaller pieces stayed apart
    pieces = (tp.join(bridge, on="identifier_id")
              .group_by("true_person_id", "cluster_id")
              .agg(n=pl.len(), isolated=(~pl.col("has_edge")).all(), capped=pl.col("is_oversized_cluster").any()))
    pieces = pieces.filter(pl.col("true_person_id").is_in(
        pieces.group_by("true_person_id").len().filter(pl.col("len") > 1)["true_person_id"].implode()))
    minor = pieces.sort(["true_person_id", "n", "cluster_id"], descending=[False, True, False]).with_columns(
        rank=pl.int_range(pl.len()).over("true_person_id")).filter(pl.col("rank") > 0)
    cause = (pl.when(pl.col("capped")).then(pl.lit("size_cap"))
             .when(pl.col("isolated")).then(pl.lit("isolated_identifier"))
             .otherwise(pl.lit("no_rule_links_them")))
    for c, n in minor.with_columns(cause=cause).group_by("cause").len().rows():
        errors.append({"error": "split_piece", "cause": c, "count": n})
    return {"metrics": metrics, "errors": errors, "role_bridges": role_bridges}


EVAL_DDL = """
create schema if not exists eval;
create table if not exists eval.identity_metrics (
    evaluated_at timestamptz not null, world varchar not null, scale varchar, scope varchar not null,
    subset varchar not null, items bigint, unseen bigint, precision double, recall double, f1 double,
    true_pairs bigint, predicted_pairs bigint, correct_pairs bigint, over_merged_clusters bigint, split_true bigint
);
create table if not exists eval.identity_errors (
    evaluated_at timestamptz not null, world varchar not null, error varchar not null, cause varchar not null,
    count bigint not null
);
"""


def record(con, world: Path, result: dict) -> None:
    """Append one evaluation to eval.identity_metrics / eval.identity_errors (one transaction)."""
    import json
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    manifest = world / "truth" / "manifest.json"
    scale = json.loads(manifest.read_text())["config"]["scale"] if manifest.exists() else None
    con.execute(EVAL_DDL)
    con.execute("begin transaction")
    for m in result["metrics"]:
        con.execute("insert into eval.identity_metrics values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [now, str(world), scale, m["scope"], m["subset"], m["items"], m["unseen"], m["precision"],
                     m["recall"], m["f1"], m["true_pairs"], m["predicted_pairs"], m["correct_pairs"],
                     m["over_merged_clusters"], m["split_true"]])
    for e in result["errors"]:
        con.execute("insert into eval.identity_errors values (?, ?, ?, ?, ?)",
                    [now, str(world), e["error"], e["cause"], e["count"]])
    con.execute("commit")
