"""What landing tells a person: the quarantine by source and reason, and enrichment providers the precedence seed
does not rank."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable

from revops import settings

PRECEDENCE_SEED = settings.REPO_ROOT / "seeds" / "enrichment_precedence.csv"


def ranked_providers() -> set[str]:
    with PRECEDENCE_SEED.open() as f:
        return {row["source"] for row in csv.DictReader(f)}


def missing_providers(seen: Iterable[str]) -> list[str]:
    """Providers that delivered files but are not in seeds/enrichment_precedence.csv (they still count, after
    the ranked ones: docs/landing.md)."""
    return sorted(set(seen) - ranked_providers())


def print_quarantine_summary(con, echo: Callable[[str], None]) -> None:
    """One line per source and reason: how many records, the first one's file and line, the reason."""
    rows = con.execute(r"""
        select source, regexp_replace(regexp_replace(regexp_replace(error, 'column \d+ \(char \d+\)', 'column N'),
                                      'offset \d+', 'offset N'), 'key .* was delivered', 'key K was delivered')
                   as reason,
               count(*) as n, min(file || coalesce(':' || line, '')) as example
        from raw.quarantine group by all order by source, n desc, reason
    """).fetchall()
    if not rows:
        echo("\nquarantine: empty")
        return
    echo("\nquarantine (all landed files and pages), by source and reason, with one record's file:line:")
    for name, reason, n, example in rows:
        echo(f"  {name:<22} {n:>8,}  {example}  {reason[:160]}")
    echo("  (each record with its raw text: select * from raw.quarantine where source = '<source>'; fix it where "
         "it was exported and deliver the file again: a changed file replaces what it landed)")
