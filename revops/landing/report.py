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
    the ranked ones: DESIGN 3)."""
    return sorted(set(seen) - ranked_providers())


def print_quarantine_summary(con, echo: Callable[[str], None]) -> None:
    echo("\nquarantine (all landed files), by source and reason:")
    for name, reason, n in con.execute(r"""
        select source, regexp_replace(regexp_replace(error, 'column \d+ \(char \d+\)', 'column N'),
                                      'offset \d+', 'offset N') as reason, count(*) as n
        from raw.quarantine group by all order by source, n desc, reason
    """).fetchall():
        echo(f"  {name:<22} {n:>8,}  {reason[:160]}")
