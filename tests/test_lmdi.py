"""LMDI against published test vectors and its invariants.

The reference numbers are those of the R package LMDIR (M. Heun, CRAN; tests/testthat/test_lmdi.R,
"create_simple_LMDI"): two sub-categories × three factors over 1971-1974, with its expected
additive and multiplicative effects and the zero-value cases of Ang, Zhang & Choi (1998, Table 2).
They are an independent implementation of Ang (2005) Eqs. (4)-(5); agreement to 1e-8 (they print
10 significant digits).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from greenpark.cli.main import app
from greenpark.core import lmdi

# LMDIR's simple example: rows = sub-categories, columns = factors
X = {
    1971: [[1, 10, 2], [4, 5, 3]],
    1972: [[4, 5, 3], [5, 6, 4]],
    1973: [[8, 2, 4], [5, 7, 5]],
    1974: [[10, 1, 5], [6, 8, 6]],
}
runner = CliRunner()


def test_additive_effects_by_subcategory_match_lmdir() -> None:
    # LMDIR Zij(1971 → 1972) and Z_byname
    z = lmdi.additive_effects(X[1971], X[1972])
    assert z == pytest.approx(np.array([[50.47438029, -25.23719014, 14.76280986],
                                        [19.31568569, 15.78206435, 24.90224996]]), abs=1e-8)  # fmt: skip
    z2 = lmdi.additive_effects(X[1972], X[1973])
    assert z2 == pytest.approx(np.array([[42.96021467, -56.79031473, 17.83010006],
                                         [0.0, 22.47128816, 32.52871184]]), abs=1e-8)  # fmt: skip


def test_additive_and_multiplicative_totals_match_lmdir() -> None:
    links = lmdi.chained([X[y] for y in (1971, 1972, 1973, 1974)])
    assert [d.total_change for d in links] == pytest.approx([100, 59, 99])
    assert [link.additive for link in links] == [
        pytest.approx([69.79006598, -9.455125793, 39.66505981], abs=1e-8),
        pytest.approx([42.96021467, -34.31902656, 50.3588119], abs=1e-8),
        pytest.approx([54.01064234, -9.021284671, 54.01064234], abs=1e-8),
    ]
    assert [d.total_ratio for d in links] == pytest.approx([2.25, 1.327777778, 1.414225941], rel=1e-9)
    assert [link.multiplicative for link in links] == [
        pytest.approx([1.761117821, 0.926191306, 1.379410116], rel=1e-9),
        pytest.approx([1.229284572, 0.847970248, 1.273773912], rel=1e-9),
        pytest.approx([1.208140223, 0.968911503, 1.208140223], rel=1e-9),
    ]


def test_zero_values_follow_the_analytical_limits() -> None:
    # LMDIR: X_0[1,1] = 0 → sub-category 1 enters: factor 1 takes V_T = 60, the others 0
    x0 = np.array(X[1971], dtype=float)
    x0[0, 0] = 0
    z = lmdi.additive_effects(x0, X[1972])
    assert z[0] == pytest.approx([60, 0, 0]) and z[1] == pytest.approx(
        [19.31568569, 15.78206435, 24.90224996]
    )
    # X_T[2,3] = 0 → sub-category 2 leaves: factor 3 takes −V_0 = −60
    xt = np.array(X[1972], dtype=float)
    xt[1, 2] = 0
    z = lmdi.additive_effects(X[1971], xt)
    assert z[1] == pytest.approx([0, 0, -60])
    # both zero: nothing; and the effects still sum to the change
    d = lmdi.decompose([[0, 1], [2, 3]], [[0, 5], [2, 3]])
    assert d.by_subcategory[0] == pytest.approx([0, 0]) and d.additive.sum() == pytest.approx(d.total_change)
    # two factors entering at once share the entry (greenpark's rule, so effects still add up)
    d = lmdi.decompose([[0, 0, 1]], [[2, 3, 1]])
    assert d.additive == pytest.approx([3, 3, 0]) and d.additive.sum() == pytest.approx(6)
    with pytest.raises(ValueError, match="non-negative"):
        lmdi.decompose([[1, -1]], [[1, 1]])


positive = st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False)
tables = st.integers(1, 4).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda k: st.tuples(
            st.lists(st.lists(positive, min_size=k, max_size=k), min_size=n, max_size=n),
            st.lists(st.lists(positive, min_size=k, max_size=k), min_size=n, max_size=n),
        )
    )
)


@settings(max_examples=200, deadline=None)
@given(tables)
def test_invariants(pair: tuple[list[list[float]], list[list[float]]]) -> None:
    x0, xt = np.array(pair[0]), np.array(pair[1])
    d = lmdi.decompose(x0, xt)
    tol = 1e-12 * max(d.value_0, d.value_t)  # round-off of sums of products up to 10^8
    # additive effects sum to the change; multiplicative effects multiply to the ratio (both LMDI I and II)
    assert d.additive.sum() == pytest.approx(d.total_change, rel=1e-9, abs=tol)
    assert np.prod(d.multiplicative) == pytest.approx(d.total_ratio, rel=1e-9)
    assert np.prod(d.multiplicative_ii) == pytest.approx(d.total_ratio, rel=1e-9)
    # ln D_k = ΔV_k / L(V^T, V^0) for LMDI-I
    lv = float(lmdi.logarithmic_mean(d.value_t, d.value_0))
    assert np.log(d.multiplicative) == pytest.approx(d.additive / lv, rel=1e-9, abs=1e-12)
    # time reversal
    back = lmdi.decompose(xt, x0)
    assert back.additive == pytest.approx(-d.additive, rel=1e-9, abs=tol)
    assert back.multiplicative * d.multiplicative == pytest.approx(np.ones(len(d.factors)), rel=1e-9)
    assert back.multiplicative_ii * d.multiplicative_ii == pytest.approx(np.ones(len(d.factors)), rel=1e-9)


@given(tables, st.integers(0, 3), st.floats(0.1, 10.0))
def test_a_single_changing_factor_takes_all(
    pair: tuple[list[list[float]], list[list[float]]], k: int, f: float
) -> None:
    x0 = np.array(pair[0])
    k = k % x0.shape[1]
    xt = x0.copy()
    xt[:, k] *= f
    d = lmdi.decompose(x0, xt)
    tol = 1e-12 * max(d.value_0, d.value_t)
    others = [j for j in range(x0.shape[1]) if j != k]
    assert d.additive[k] == pytest.approx(d.total_change, rel=1e-9, abs=tol)
    assert np.abs(d.additive[others]).max(initial=0.0) <= tol
    assert d.multiplicative[k] == pytest.approx(d.total_ratio, rel=1e-9)
    assert d.multiplicative_ii[k] == pytest.approx(f, rel=1e-9)  # every sub-category moved by f


def test_one_subcategory_lmdi_ii_equals_lmdi_i() -> None:
    # with one sub-category both weights are 1: D_k = x_k^T / x_k^0
    d = lmdi.decompose([[2.0, 3.0, 5.0]], [[3.0, 3.0, 4.0]])
    assert d.multiplicative == pytest.approx([1.5, 1.0, 0.8]) and d.multiplicative_ii == pytest.approx(
        [1.5, 1.0, 0.8]
    )


def _csv(tmp_path, rows: str, name: str = "factors.csv"):  # type: ignore[no-untyped-def]
    p = tmp_path / name
    p.write_text(rows, encoding="utf-8")
    return p


def test_cli_lmdi_shape_and_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = "subcategory,year,activity,structure,intensity\n"
    for y, rows in X.items():
        for i, r in enumerate(rows):
            body += f"s{i + 1},{y},{r[0]},{r[1]},{r[2]}\n"
    path = _csv(tmp_path, body)
    res = runner.invoke(app, ["lmdi", "--input", str(path), "--from", "1971", "--to", "1972", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert set(out) == {"additive", "multiplicative", "total_change", "total_ratio"}
    assert out["additive"]["activity"] == pytest.approx(69.79006598, abs=1e-8)
    assert out["multiplicative"]["intensity"] == pytest.approx(1.379410116, rel=1e-9)
    assert (out["total_change"], out["total_ratio"]) == (pytest.approx(100), pytest.approx(2.25))
    res = runner.invoke(
        app, ["lmdi", "--input", str(path), "--from", "1971", "--to", "1974", "--detail", "--json"]
    )
    detail = json.loads(res.output)
    assert (
        len(detail["chained"]) == 3
        and "multiplicative_ii" in detail
        and set(detail["by_subcategory"]) == {"s1", "s2"}
    )
    assert sum(sum(c["additive"].values()) for c in detail["chained"]) == pytest.approx(258)


def test_cli_lmdi_names_the_bad_cell(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path, "subcategory,year,a,b\ns1,2020,1,2\ns1,2021,x,2\ns2,2020,1,-1\n")
    res = runner.invoke(app, ["lmdi", "--input", str(path), "--from", "2020", "--to", "2021", "--json"])
    assert res.exit_code == 2
    assert "row 3, column a" in res.output and "row 4, column b" in res.output
    path = _csv(tmp_path, "subcategory,year,a\ns1,2020,1\ns2,2020,1\ns1,2021,2\n", "missing.csv")
    res = runner.invoke(app, ["lmdi", "--input", str(path), "--from", "2020", "--to", "2021"])
    assert res.exit_code == 2 and "s2 has no row for 2021" in res.output
