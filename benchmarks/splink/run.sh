#!/usr/bin/env bash
# Splink peer benchmark of identity resolution (README.md beside this file): export -> Splink -> score.
#
#   benchmarks/splink/run.sh WAREHOUSE WORLD [OUT_JSON]
#
# WAREHOUSE is a DuckDB file built with `revops build --select "staging resource_type:seed"` from WORLD's landing
# data; OUT_JSON defaults to bench_results/splink_identity.json. Environment: SPLINK_VENV (default
# benchmarks/splink/.venv, made here when missing), SPLINK_WORK (intermediate files, default
# <warehouse dir>/splink), PYTHON (to make the venv, default python3.11), MAIN_PYTHON (the project's venv).
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '4p' "$0" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
warehouse="$(realpath "$1")"
world="$(realpath "$2")"
out="$(realpath -m "${3:-$repo/bench_results/splink_identity.json}")"
venv="${SPLINK_VENV:-$here/.venv}"
work="${SPLINK_WORK:-$(dirname "$warehouse")/splink}"
main_python="${MAIN_PYTHON:-$repo/.venv/bin/python}"

# an interrupted install leaves a venv that cannot import splink: install again rather than trust its existence
if ! "$venv/bin/python" -c "import splink, duckdb" 2>/dev/null; then
    echo "making the Splink venv in $venv"
    "${PYTHON:-python3.11}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

mkdir -p "$work"
"$main_python" "$here/export_records.py" --duckdb "$warehouse" --out "$work/records.parquet"
"$venv/bin/python" "$here/run_splink.py" --records "$work/records.parquet" --out-dir "$work"
"$main_python" "$here/score.py" --records "$work/records.parquet" --run-dir "$work" --world "$world" --out "$out"
