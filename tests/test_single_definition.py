"""Each KPI measure is defined once (docs/kpis.md, docs/kpis.md): in one dbt model or one shared macro, its thresholds in
dbt vars. The dashboard and `revops kpis` read the marts and never repeat a formula or a threshold.

Static checks, no warehouse needed:
1. dbt: every KPI var (speed_to_lead_*, double_touch_*, request_fold_*, kill_switch_*, attribution_*,
   conversion_*) is read by one SQL file of models/ and macros/ at most: a threshold has one home.
2. dbt: no KPI model or kpi_* macro writes a threshold's value as a literal (300 where speed_to_lead_fast_seconds
   belongs), outside the var defaults of its one home.
3. dbt: each KPI formula (the latency percentiles, the shares of the known outcomes, the open state, per 10,000
   touches, the share of touched persons, the latency bars) appears in its home file and nowhere else.
4. Python (dashboard/, revops/kpis.py and the `kpis` command of revops/cli/reports.py): no SQL aggregate formula
   (quantile, percentile, median, avg, count distinct, / nullif, * 10000), no latency or window comparison, no
   pandas/numpy statistic, no literal equal to a KPI threshold in a comparison, arithmetic or SQL, no 10,000, and
   no read of a staging or intermediate relation.
5. docs/kpis.md names every KPI var and every KPI mart.

The scanners are tested on the duplicates this project once had (the dashboard's own speed-to-lead measures with
300/900/3600 buckets, mart_revops_kpis' own percentile and per-10k formula): they must fail on those."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
DBT = REPO / "dbt_project"
VARS = yaml.safe_load((DBT / "dbt_project.yml").read_text())["vars"]
KPI_VAR = re.compile(r"^(speed_to_lead|double_touch|request_fold|kill_switch|attribution|conversion)_")
KPI_VARS = sorted(v for v in VARS if KPI_VAR.match(v))
KPI_MACROS = sorted((DBT / "macros").glob("kpi_*.sql"))
KPI_MODELS = sorted((DBT / "models" / "kpi").glob("*.sql"))


def _sql_files() -> list[Path]:
    return sorted((DBT / "models").rglob("*.sql")) + sorted((DBT / "macros").glob("*.sql"))


def _strip_comments(sql: str) -> str:
    sql = re.sub(r"\{#.*?#\}", " ", sql, flags=re.S)
    return re.sub(r"--[^\n]*", " ", sql)


def _rel(p: Path) -> str:
    return str(p.relative_to(REPO)) if p.is_absolute() else str(p)


# --- the thresholds ---------------------------------------------------------------------------------------------

def _var_defaults_in_macros() -> dict[str, list]:
    """Vars a kpi_* macro reads with a default (var('name', [..])): defaults count as threshold values too."""
    found = {}
    for p in KPI_MACROS:
        for name, default in re.findall(r"var\(\s*'(\w+)'\s*,\s*(\[[^\]]*\]|[\d.]+)\s*\)", p.read_text()):
            found[name] = yaml.safe_load(default)
    return found


def _threshold_values() -> dict[float, str]:
    """Distinctive threshold values (not small whole numbers such as 7 or 24, which are everywhere) -> var name."""
    values = {}
    for name in KPI_VARS:
        for v in VARS[name] if isinstance(VARS[name], list) else [VARS[name]]:
            values.setdefault(v, name)
    for name, default in _var_defaults_in_macros().items():
        for v in default if isinstance(default, list) else [default]:
            values.setdefault(v, name)
    return {float(v): n for v, n in values.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and (v >= 100 or v != int(v))}


THRESHOLDS = _threshold_values()
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])")


def var_homes(files: dict[str, str]) -> dict[str, set[str]]:
    """KPI var -> the files that read it ({path: text})."""
    homes = {}
    for path, text in files.items():
        for name in re.findall(r"var\(\s*['\"](\w+)['\"]", _strip_comments(text)):
            if KPI_VAR.match(name):
                homes.setdefault(name, set()).add(path)
    return homes


# a number a value is compared with, or a window's length: where a threshold would be written (a unit conversion such
# as `/ 3600.0` or `/ 86400.0` is not a threshold and is left alone)
COMPARED = re.compile(r"(?:<=?|>=?|<>|!=|(?<![<>!])=|\bbetween\s+\S+\s+and|\binterval\s*\(?'?|dateadd\([^,]*,)\s*"
                      r"(\d+(?:\.\d+)?)(?![\w.])|(?<![\w.])(\d+(?:\.\d+)?)\s*(?:<=?|>=?|<>)", re.I)


def literal_thresholds(path: str, text: str) -> list[str]:
    """Threshold values written as numbers where SQL compares (a var's default in its home macro excepted)."""
    sql = re.sub(r"var\(\s*'\w+'\s*,\s*(\[[^\]]*\]|[\d.]+)\s*\)", "var()", _strip_comments(text))
    hits = [m.group(1) or m.group(2) for m in COMPARED.finditer(sql)]
    return [f"{path}: {n} (var {THRESHOLDS[float(n)]})" for n in hits if float(n) in THRESHOLDS]


# --- the formulas -----------------------------------------------------------------------------------------------

# formula -> (its one home, a pattern only that formula matches)
FORMULA_HOMES = {
    "speed-to-lead latency percentiles": (
        "dbt_project/models/kpi/mart_speed_to_lead_cube.sql",
        re.compile(r"(percentile|quantile\w*|median)\s*\(\s*['\"]?[\w.]*latency_seconds", re.I)),
    "speed-to-lead shares of the known outcomes": (
        "dbt_project/models/kpi/mart_speed_to_lead_cube.sql",
        re.compile(r"/\s*nullif\s*\(\s*answered_requests|missed_requests\s*\*\s*1\.0\s*/|"
                   r"cast\s*\(\s*missed_requests\s+as\s+\w+\s*\)\s*/|"
                   r"avg\s*\(\s*case\s+when\s+(is_missed|outcome|[\w.]*latency_seconds)", re.I)),
    "speed-to-lead open state": (
        "dbt_project/models/kpi/fct_speed_to_lead.sql",
        re.compile(r"then\s+'open'", re.I)),
    "speed-to-lead latency bars": (
        "dbt_project/macros/kpi_speed_to_lead.sql",
        re.compile(r"latency_seconds\W{0,4}\s*[<>]=?|var\(\s*['\"]speed_to_lead_(fast|hour)_seconds", re.I)),
    "double touches per 10,000 touches": (
        "dbt_project/models/kpi/mart_double_touch_cube.sql",
        re.compile(r"\b10000(\.0*)?\b|\b10_000\b", re.I)),
    "share of touched persons with a double touch": (
        "dbt_project/models/kpi/mart_double_touch_cube.sql",
        re.compile(r"persons_with_incident\b.{0,40}?/\s*[\w.]*touched_persons", re.I)),
    "double-touch window": (
        "dbt_project/models/kpi/fct_double_touches.sql",
        re.compile(r"var\(\s*'double_touch_window_hours'", re.I)),
}


def formula_places(files: dict[str, str]) -> dict[str, set[str]]:
    """Formula -> the SQL files it appears in."""
    places = {}
    for path, text in files.items():
        sql = _strip_comments(text)
        for formula, (_, pattern) in FORMULA_HOMES.items():
            if pattern.search(sql):
                places.setdefault(formula, set()).add(path)
    return places


# --- Python -----------------------------------------------------------------------------------------------------

SQL_FORMULAS = [
    # no space before the parenthesis: a label such as "median (min)" is not a call
    (re.compile(r"\b(quantile\w*|percentile\w*|median|approx_quantile|mode)\(", re.I), "a percentile"),
    (re.compile(r"\b(avg|mean|stddev\w*|variance)\(", re.I), "an average"),
    (re.compile(r"\bcount\s*\(\s*distinct\b", re.I), "a distinct count"),
    (re.compile(r"\bnullif\s*\(", re.I), "a guarded ratio (/ nullif)"),
    (re.compile(r"\*\s*1\.0\s*/|/\s*sum\s*\(", re.I), "a ratio"),
    (re.compile(r"\b10000|10,000\.|\b10_000", re.I), "a per-10,000 rate"),
    (re.compile(r"\b(latency_seconds|business_latency_seconds|gap_minutes)\s*[<>]=?", re.I), "a latency threshold"),
    (re.compile(r"\binterval\b|\bdate_(add|diff|sub)\s*\(|\bdatediff\s*\(", re.I), "window arithmetic"),
    (re.compile(r"\b(stg|int)_\w+|\braw\.\w+", re.I), "a read below the marts"),
]
PY_STATS = {"median", "quantile", "percentile", "nanmedian", "nanpercentile", "nanquantile", "mean", "average",
            "std", "var"}


def _python_scopes() -> dict[str, str]:
    """The Python that reads KPI marts: the dashboard (but dashboard/browser.py, which drives a browser for the tests
    and reads no mart), revops/kpis.py and the `kpis` command of revops/cli/reports.py."""
    scopes = {_rel(p): p.read_text() for p in sorted((REPO / "dashboard").rglob("*.py")) if p.name != "browser.py"}
    scopes["revops/kpis.py"] = (REPO / "revops" / "kpis.py").read_text()
    cli = (REPO / "revops" / "cli" / "reports.py").read_text()
    tree = ast.parse(cli)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "kpis")
    scopes["revops/cli/reports.py::kpis"] = ast.get_source_segment(cli, node)
    return scopes


def python_findings(path: str, source: str) -> list[str]:
    """Every string of the code but docstrings is read as SQL (a query is often built from pieces: a fragment holds
    no SELECT); labels do not look like formulas."""
    tree = ast.parse(source)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for pattern, what in SQL_FORMULAS:
                if m := pattern.search(node.value):
                    found.append(f"{path}:{node.lineno}: {what} in SQL: {m.group(0)!r}")
            for m in NUMBER.finditer(node.value):
                if float(m.group(1)) in THRESHOLDS:
                    found.append(f"{path}:{node.lineno}: threshold {m.group(1)} "
                                 f"(var {THRESHOLDS[float(m.group(1))]}) in SQL or text")
        # a statistic computed in Python: df.median(), np.percentile(...), statistics.mean(...)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in PY_STATS:
            found.append(f"{path}:{node.lineno}: a statistic computed in Python: .{node.func.attr}()")
        # a threshold's value compared with or computed on
        if isinstance(node, (ast.Compare, ast.BinOp)):
            for c in ast.walk(node):
                if isinstance(c, ast.Constant) and type(c.value) in (int, float) and float(c.value) in THRESHOLDS:
                    found.append(f"{path}:{node.lineno}: threshold {c.value} (var {THRESHOLDS[float(c.value)]}) "
                                 "in an expression")
        if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == 10000:
            found.append(f"{path}:{node.lineno}: 10,000: a per-10k rate belongs to mart_double_touch_cube")
    return found


# --- the checks on the repository --------------------------------------------------------------------------------

def test_every_kpi_var_has_one_home():
    files = {_rel(p): p.read_text() for p in _sql_files()}
    homes = var_homes(files)
    shared = {v: sorted(h) for v, h in homes.items() if len(h) > 1}
    assert shared == {}, f"a threshold read in more than one place: {shared}"
    # the speed-to-lead and double-touch vars are all read somewhere (a var nobody reads is a stale definition)
    assert {v for v in KPI_VARS if v.startswith(("speed_to_lead", "double_touch"))} <= set(homes)


def test_no_kpi_sql_writes_a_threshold_as_a_literal():
    assert THRESHOLDS.keys() >= {300.0, 3600.0, 900.0, 14400.0, 86400.0, 200.0, 0.02, 0.0008}
    found = [hit for p in [*KPI_MODELS, *KPI_MACROS] for hit in literal_thresholds(_rel(p), p.read_text())]
    assert found == []


def test_every_kpi_formula_lives_in_one_file():
    files = {_rel(p): p.read_text() for p in _sql_files()}
    places = formula_places(files)
    wrong = {formula: sorted(places.get(formula, [])) for formula, (home, _) in FORMULA_HOMES.items()
             if places.get(formula) != {home}}
    assert wrong == {}, f"formulas not (only) in their home: {wrong}"


def test_the_dashboard_and_the_cli_compute_no_kpi():
    scopes = _python_scopes()
    assert len(scopes) >= 10 and "quantile" not in scopes["revops/cli/reports.py::kpis"]
    found = [hit for path, source in scopes.items() for hit in python_findings(path, source)]
    assert found == []


def test_docs_name_every_kpi_var_and_mart():
    doc = (REPO / "docs" / "kpis.md").read_text()
    kpi_vars = [v for v in KPI_VARS if v.startswith(("speed_to_lead", "double_touch", "request_fold", "kill_switch"))]
    missing = [v for v in [*kpi_vars, *_var_defaults_in_macros()] if v not in doc]
    missing += [p.stem for p in KPI_MODELS if p.stem.startswith(("mart_", "fct_", "dim_")) and p.stem not in doc]
    assert missing == []


# --- the scanners catch the duplicates this project had ---------------------------------------------------------

OLD_DASHBOARD = '''
FAST_SECONDS = 300
_STL_MEASURES = f"""
    count(*) as requests,
    quantile_cont(latency_seconds, 0.5) / 60.0 as median_latency_minutes,
    avg(case when latency_seconds <= {FAST_SECONDS} then 1.0 else 0.0 end) as share_within_5_min,
    avg(case when is_missed then 1.0 else 0.0 end) as missed_share"""


def latency_distribution(query, where, params):
    return query(f"""select case when is_missed then 'missed'
                                 when latency_seconds <= 300 then '≤ 5 min'
                                 when latency_seconds <= 900 then '5–15 min'
                                 when latency_seconds <= 3600 then '15–60 min' else '1–7 d' end as latency,
                            count(*) as requests
                     from fct_speed_to_lead where {where} group by 1""", params)


def colliding(query):
    return query("select emitter, median(gap_minutes) as gap from fct_double_touches group by 1", [])


def late(df):
    return df[df["latency_seconds"] > 300].latency_seconds.median()
'''

OLD_REVOPS_KPIS = """
daily_requests as (
    select cast(requested_at as date) as day_utc, count(*) as requests,
        {{ percentile('latency_seconds', 0.5) }} / 60.0 as median_speed_to_lead_minutes,
        avg(case when latency_seconds <= {{ var('speed_to_lead_fast_seconds') }} then 1.0 else 0.0 end)
            as share_within_5_min,
        avg(case when is_missed then 1.0 else 0.0 end) as missed_share
    from speed group by cast(requested_at as date)
),
final as (
    select coalesce(daily_double_touches.double_touches, 0) * 10000.0 / nullif(daily_touches.touches, 0)
        as double_touches_per_10k
    from days
)
"""


def test_the_python_scanner_catches_the_old_dashboard():
    found = python_findings("dashboard/data.py", OLD_DASHBOARD)
    text = "\n".join(found)
    for what in ("a percentile in SQL: 'quantile_cont('", "an average in SQL", "a latency threshold in SQL",
                 "threshold 300 (var speed_to_lead_fast_seconds) in SQL", "threshold 900", "threshold 3600",
                 "a percentile in SQL: 'median('", "a statistic computed in Python: .median()",
                 "threshold 300 (var speed_to_lead_fast_seconds) in an expression"):
        assert what in text, (what, found)


def test_the_sql_scanners_catch_a_second_home():
    files = {_rel(p): p.read_text() for p in _sql_files()}
    files["dbt_project/models/kpi/mart_revops_kpis.sql"] = OLD_REVOPS_KPIS
    places = formula_places(files)
    for formula in ("speed-to-lead latency percentiles", "speed-to-lead shares of the known outcomes",
                    "speed-to-lead latency bars", "double touches per 10,000 touches"):
        assert "dbt_project/models/kpi/mart_revops_kpis.sql" in places[formula], formula
    assert var_homes(files)["speed_to_lead_fast_seconds"] >= {"dbt_project/macros/kpi_speed_to_lead.sql",
                                                              "dbt_project/models/kpi/mart_revops_kpis.sql"}
    assert literal_thresholds("x.sql", "select latency_seconds <= 3600, x / 3600.0 from t -- <= 300 in a comment\n"
                                       "where rate > 0.02 and sends >= 200") == [
        "x.sql: 3600 (var speed_to_lead_hour_seconds)", "x.sql: 0.02 (var kill_switch_max_bounce_rate)",
        "x.sql: 200 (var kill_switch_min_sends)"]


@pytest.mark.parametrize("snippet", [
    "def f(q): return q('select count(distinct person_id) from fct_touches', [])",
    "def f(q): return q('select sum(incidents) * 10000.0 / sum(touches) from mart_double_touch_cube', [])",
    "def f(q): return q('select confirmed * 1.0 / nullif(sent, 0) from mart_sync_health', [])",
    "def f(q): return q('select * from stg_esp__events', [])",
    "def f(q): return q(\"select * from fct_speed_to_lead where requested_at > now() - interval 7 day\", [])",
    "import numpy as np\ndef f(x): return np.percentile(x, 90)",
    "def f(share): return share > 0.02",
])
def test_the_python_scanner_catches_each_kind_of_formula(snippet):
    assert python_findings("dashboard/x.py", snippet), snippet
