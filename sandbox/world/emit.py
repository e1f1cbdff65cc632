"""Turning generated records into the exact source files (docs/landing.md), deterministically.

Records arrive here as polars frames with a `json` column (one encoded record), `arrival_ms` (when the
source delivered it, which decides the dated folder) and an `order` key. This module injects the messy-input
phenomena that only exist at the file level (broken records, duplicated deliveries), partitions into files
and writes them, and returns the truth about what it broke.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

ISO_MS = "%Y-%m-%dT%H:%M:%S%.3fZ"


def iso(col: str | pl.Expr) -> pl.Expr:
    """Epoch-ms int column -> ISO-8601 UTC string with milliseconds (HubSpot / Segment style)."""
    e = pl.col(col) if isinstance(col, str) else col
    return pl.from_epoch(e, time_unit="ms").dt.strftime(ISO_MS)


def mix_ids(seq: np.ndarray, salt: int) -> np.ndarray:
    """A bijection of 0..n onto random-looking uint64s: unique ids that do not reveal their order."""
    x = (seq.astype(np.uint64) + np.uint64(salt)) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(29)
    return x


# How each source's records get broken (docs/landing.md: invalid JSON, missing required field, unparseable timestamp,
# wrong type). Each entry: kind -> (regex on the encoded record, replacement). The first key of every encoded
# record is its required id, so "missing_field" drops it.
@dataclass(frozen=True)
class BreakRules:
    timestamp_pattern: str  # matches the record's main timestamp key and value
    timestamp_replacement: str
    wrong_type_pattern: str
    wrong_type_replacement: str


BREAK_KINDS = ["invalid_json", "missing_field", "bad_timestamp", "wrong_type"]


def inject_broken(df: pl.DataFrame, rules: BreakRules, rate: float, rng: np.random.Generator) -> pl.DataFrame:
    """Corrupt `rate` of the records in place; adds a `broken_kind` column (null for good records)."""
    n = df.height
    hit = rng.random(n) < rate
    kind = np.where(hit, np.array(BREAK_KINDS)[rng.integers(0, len(BREAK_KINDS), n)], None)
    df = df.with_columns(broken_kind=pl.Series(kind.tolist(), dtype=pl.String))
    # rewrite only the ~0.5% hit rows, then scatter them back (every regex over every row costs seconds at M)
    rows = np.flatnonzero(hit)
    sub = df[rows.tolist()].select("json", "broken_kind")
    j, k = pl.col("json"), pl.col("broken_kind")
    sub = sub.select(
        pl.when(k == "invalid_json")
        .then(j.str.slice(0, j.str.len_chars() // 2))  # a body cut off mid-record
        .when(k == "missing_field")
        .then(j.str.replace(r'^\{"[^"]+":("[^"]*"|[-0-9.]+|null),', "{"))
        .when(k == "bad_timestamp")
        .then(j.str.replace(rules.timestamp_pattern, rules.timestamp_replacement))
        .otherwise(j.str.replace(rules.wrong_type_pattern, rules.wrong_type_replacement))
    ).to_series()
    return df.with_columns(df["json"].scatter(rows, sub))


def inject_duplicates(df: pl.DataFrame, rate: float, rng: np.random.Generator, max_delay_ms: int) -> tuple[pl.DataFrame, int]:
    """Deliver `rate` of the records a second time, byte-identical, a little later (a retried webhook)."""
    hit = rng.random(df.height) < rate
    dup = df.filter(pl.Series(hit)).with_columns(
        arrival_ms=pl.col("arrival_ms") + pl.Series(rng.integers(60_000, max_delay_ms, int(hit.sum()))),
        is_duplicate=pl.lit(True),
    )
    return pl.concat([df.with_columns(is_duplicate=pl.lit(False)), dup]), int(hit.sum())


def write_partitioned(
    df: pl.DataFrame,
    root: Path,
    folder: str,
    stem: str,
    fmt: str,
    end_ms: int,
    per_file: int,
    gzip_every_other_day: bool = False,
    flat: bool = False,
) -> pl.DataFrame:
    """Write records to `<root>/<folder>/YYYY/MM/DD/<stem>-NNNN.<ext>` by arrival day.

    fmt "json_array": one JSON array per file (an ESP webhook POST body); "jsonl": JSON Lines.
    Records not arrived by the world's end are not written (the warehouse has not seen them yet).
    Returns one row per written record: file (relative to root), line (1-based line, or array index),
    broken_kind, is_duplicate, and any `truth_*` columns passed in.
    """
    df = df.filter(pl.col("arrival_ms") < end_ms).sort(["arrival_ms", "order"])
    # dated folders (YYYY/MM/DD/stem-NNNN), or one flat folder of dated files (stem-YYYY-MM-DD-NNNN)
    day_fmt = "%Y-%m-%d" if flat else "%Y/%m/%d"
    day = pl.from_epoch("arrival_ms", time_unit="ms").dt.strftime(day_fmt)
    df = df.with_columns(day=day)
    df = df.with_columns(n_in_day=pl.int_range(pl.len()).over("day"))
    df = df.with_columns(chunk=pl.col("n_in_day") // per_file, line=(pl.col("n_in_day") % per_file) + 1)
    gz_day = pl.col("day").str.slice(8, 2).cast(pl.Int32) % 2 == 0 if gzip_every_other_day else pl.lit(False)
    ext = {"json_array": ".json", "jsonl": ".jsonl"}[fmt]
    df = df.with_columns(
        file=(pl.lit(f"{folder}/{stem}-") + pl.col("day") + pl.lit("-") if flat
              else pl.lit(f"{folder}/") + pl.col("day") + pl.lit(f"/{stem}-"))
        + pl.col("chunk").cast(pl.String).str.zfill(4)
        + pl.when(gz_day).then(pl.lit(ext + ".gz")).otherwise(pl.lit(ext))
    )
    files = df["file"].to_numpy()
    if len(files):
        bounds = np.flatnonzero(files[1:] != files[:-1]) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(files)]])
        lines = df["json"]
        for s, e in zip(starts, ends):
            path = root / files[s]
            path.parent.mkdir(parents=True, exist_ok=True)
            # joined in polars: millions of small Python strings would fragment the heap, and at scale L
            # the process kept ~150 MB more per block of 25k persons
            if fmt == "json_array":
                text = "[\n" + lines.slice(s, e - s).str.join(",\n").item() + "\n]\n"
            else:
                text = lines.slice(s, e - s).str.join("\n").item() + "\n"
            data = text.encode("utf-8")
            if path.suffix == ".gz":
                buf = io.BytesIO()
                # mtime=0 and no file name in the header: gzip output must be byte-identical across runs
                with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=1) as gz:
                    gz.write(data)
                data = buf.getvalue()
            path.write_bytes(data)
    keep = ["file", "line", "broken_kind", "is_duplicate"] + [c for c in df.columns if c.startswith("truth_")]
    return df.select([c for c in keep if c in df.columns])
