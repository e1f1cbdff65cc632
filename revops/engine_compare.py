"""Are two engines' marts the same? `python -m revops.engine_compare A.duckdb B.duckdb` compares every mart and sync
model (main.dim_*, fct_*, mart_*, bridge_*, sync_*) of two control stores — one built with REVOPS_ENGINE=duckdb, one
with spark, whose models the Spark build served into it (revops/spark_store.py) — row for row: EXCEPT ALL both
ways, after putting each value in one form both engines can be held to:

- numbers (any integer, decimal or floating type) as DOUBLE rounded to 9 places: Spark and DuckDB sum floats in
  another order, and one engine's DECIMAL is the other's DOUBLE;
- timestamps as naive UTC (a DuckDB TIMESTAMPTZ and a Spark TIMESTAMP in a UTC session are the same instant);
- lists and structs as their text, with their numbers left as they are.

Column names must be the same, and so must what a reader sees of each column's type: an instant (TIMESTAMPTZ) is
not a naive timestamp, a number is not text (an INTEGER and a BIGINT, a JSON and a VARCHAR are alike).

Exit 0: equal; 1: a table differs (each named with its row counts and a few differing rows); 2: wrong usage."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

COMPARED_PREFIXES = ("dim_", "fct_", "mart_", "bridge_", "sync_")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "REAL", "DECIMAL")


@dataclass
class TableDiff:
    table: str
    rows_a: int = 0
    rows_b: int = 0
    only_a: int = 0
    only_b: int = 0
    problem: str = ""
    examples: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.problem and self.only_a == 0 and self.only_b == 0


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _normal(column: str, data_type: str) -> str:
    c = _ident(column)
    t = data_type.upper()
    if t.startswith(NUMERIC):
        return f"round({c}::double, 9) as {c}"
    if t == "TIMESTAMP WITH TIME ZONE":
        return f"timezone('UTC', {c}) as {c}"
    if t.startswith("TIMESTAMP"):
        return f"{c}::timestamp as {c}"
    if t.endswith("[]") or t.startswith(("STRUCT", "MAP")) or t == "JSON":
        return f"{c}::varchar as {c}"
    return c


def _kind(data_type: str) -> str:
    """What a reader of the column sees, beyond width: an instant, a naive time, a number, text, ..."""
    t = data_type.upper()
    if t == "TIMESTAMP WITH TIME ZONE":
        return "instant"
    if t.startswith("TIMESTAMP"):
        return "naive timestamp"
    if t.startswith(NUMERIC):
        return "number"
    if t in ("VARCHAR", "JSON"):
        return "text"
    if t.endswith("[]"):
        return "list"
    return t


def _columns(con, catalog: str, table: str) -> dict[str, str]:
    return dict(con.execute("select column_name, data_type from information_schema.columns where table_catalog = ? "
                            "and table_schema = 'main' and table_name = ? order by ordinal_position",
                            [catalog, table]).fetchall())


def _tables(con, catalog: str) -> set[str]:
    return {r[0] for r in con.execute("select table_name from information_schema.tables where table_catalog = ? "
                                      "and table_schema = 'main'", [catalog]).fetchall()
            if r[0].startswith(COMPARED_PREFIXES)}


def compare(a: Path, b: Path, examples: int = 3) -> list[TableDiff]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("attach ? as a (read_only)", [str(a)])
    con.execute("attach ? as b (read_only)", [str(b)])
    diffs = []
    tables_a, tables_b = _tables(con, "a"), _tables(con, "b")
    for t in sorted(tables_a | tables_b):
        d = TableDiff(t)
        diffs.append(d)
        if t not in tables_a or t not in tables_b:
            d.problem = f"only in {'b' if t not in tables_a else 'a'}"
            continue
        cols_a, cols_b = _columns(con, "a", t), _columns(con, "b", t)
        if set(cols_a) != set(cols_b):
            d.problem = (f"columns differ: only in a {sorted(set(cols_a) - set(cols_b))}, "
                         f"only in b {sorted(set(cols_b) - set(cols_a))}")
            continue
        kinds = {c: (_kind(cols_a[c]), _kind(cols_b[c])) for c in cols_a}
        mismatched = {c: k for c, k in kinds.items() if k[0] != k[1]}
        if mismatched:
            d.problem = "column kinds differ: " + ", ".join(f"{c} {a} vs {b}" for c, (a, b) in mismatched.items())
            continue
        names = list(cols_a)
        sel_a = ", ".join(_normal(c, cols_a[c]) for c in names)
        sel_b = ", ".join(_normal(c, cols_b[c]) for c in names)
        con.execute(f"create or replace temp view na as select {sel_a} from a.main.{_ident(t)}")
        con.execute(f"create or replace temp view nb as select {sel_b} from b.main.{_ident(t)}")
        d.rows_a = con.execute("select count(*) from na").fetchone()[0]
        d.rows_b = con.execute("select count(*) from nb").fetchone()[0]
        d.only_a = con.execute("select count(*) from (select * from na except all select * from nb)").fetchone()[0]
        d.only_b = con.execute("select count(*) from (select * from nb except all select * from na)").fetchone()[0]
        if not d.equal:
            for side, q in (("a", "select * from na except all select * from nb"),
                            ("b", "select * from nb except all select * from na")):
                for row in con.execute(f"{q} limit {int(examples)}").fetchall():
                    d.examples.append(f"only in {side}: {row}")
    con.close()
    return diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m revops.engine_compare", description=__doc__.split("\n\n")[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    args = p.parse_args(argv)
    for f in (args.a, args.b):
        if not f.is_file():
            print(f"error: {f}: no such warehouse file", file=sys.stderr)
            return 2
    diffs = compare(args.a, args.b)
    for d in diffs:
        state = "equal" if d.equal else (d.problem or f"{d.only_a} row(s) only in a, {d.only_b} only in b")
        print(f"{d.table:<40} {d.rows_a:>9,} {d.rows_b:>9,}  {state}")
        for e in d.examples:
            print(f"    {e[:300]}")
    bad = [d for d in diffs if not d.equal]
    print(f"{len(diffs) - len(bad)} of {len(diffs)} tables equal")
    return 1 if bad or not diffs else 0


if __name__ == "__main__":
    sys.exit(main())
