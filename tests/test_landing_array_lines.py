"""A JSON array body that DuckDB cannot take whole, written one element a line (the usual webhook log), is cut in
Arrow by `_array_element_lines`; `split_array_body` is the reference (its one-element-a-line branch, in Python).
Both must give the same elements, in the same order with the same index, for any such body — hand-made layouts and
hypothesis-made ones: elements broken or not, trailing commas, blank and whitespace lines, brackets on their own
line or glued to the first and last element, non-ASCII text."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revops.landing.files import _array_element_lines, split_array_body


def _both(body: str):
    arrow = _array_element_lines(7, body.encode("utf-8"))
    python = split_array_body(body)
    return arrow, python


def _assert_same(body: str) -> int:
    arrow, python = _both(body)
    if arrow is None:
        # Arrow declines exactly the layouts the Python one-a-line branch declines (its per-element path takes them)
        lines = [ln.rstrip() for ln in body.split("\n") if ln.strip() not in ("", "[", "]")]
        assert not (len(lines) > 1 and all(ln.startswith(("{", "[{")) for ln in lines))
        return 0
    got = list(zip(arrow.column("line").to_pylist(), arrow.column("text").to_pylist()))
    assert set(arrow.column("file_id").to_pylist()) == {7}
    assert got == [(i, t) for i, t, err in python]
    assert all(err is None for _, _, err in python)
    return len(got)


@pytest.mark.parametrize("body, n", [
    ('[\n{"a":1},\n{"b":2}\n]\n', 2),
    ('[{"a":1},\n{"b":2}]', 2),                       # brackets glued to the first and last element
    ('[\n{"a":1},\n\n   \n{"b":2},\n]', 2),            # blank lines, a trailing comma before the bracket
    ('[\n{"a":1},,\n{"b":"caf\u00e9 \u2603"},\n{"c":[1,2]}]\n', 3),  # a double comma stays (a reject)
    ('[\n{"a":1},\n{"broken":\n{"c":3}\n]', 3),        # a broken element on its own line is one element
    ('[\n{"a":1,\n"b":2},\n{"c":3}\n]', 0),             # a line that starts no element: not this layout
    ('[\n  {"a":1},\n  {"b":2}\n]', 0),                # indented: not this layout
    ('[\n{"a":1}\n]', 0),                              # one element: not this layout
])
def test_hand_made_layouts(body, n):
    assert _assert_same(body) == n


element = st.dictionaries(st.text(min_size=1, max_size=5), st.one_of(st.integers(), st.text(max_size=8),
                                                                    st.lists(st.integers(), max_size=3)),
                          min_size=1, max_size=3).map(lambda d: json.dumps(d, ensure_ascii=False))
broken = element.map(lambda t: t[:-1] if len(t) > 2 else t)  # cut off: not JSON


@settings(max_examples=200, deadline=None, database=None)
@given(elements=st.lists(st.tuples(st.one_of(element, broken), st.sampled_from(["", ",", ",,", " ", ", "]),
                                   st.sampled_from(["", "\n", "\n  \n"])), min_size=2, max_size=12),
       opening=st.sampled_from(["[\n", "[", "\n[\n"]), closing=st.sampled_from(["\n]\n", "]", "\n]"]))
def test_any_one_element_a_line_body_is_cut_like_the_python_reference(elements, opening, closing):
    body = opening + "\n".join(el + sep + blank for el, sep, blank in elements) + closing
    _assert_same(body)
