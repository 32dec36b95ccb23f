"""Invariance properties of `lmer` (hypothesis): row order, level labels, affine transforms of y, and no
mutation of the caller's DataFrame."""
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from mixednb.datasets import load
from mixednb.fit import lmer, MixedModelWarning

SETTINGS = settings(max_examples=15, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

MODELS = {
    'sleepstudy': ('sleepstudy', 'Reaction ~ Days + (Days | Subject)', 'Reaction', ('Subject',)),
    'penicillin': ('Penicillin', 'diameter ~ 1 + (1 | plate) + (1 | sample)', 'diameter', ('plate', 'sample')),
    'pastes': ('Pastes', 'strength ~ 1 + (1 | batch/cask)', 'strength', ('batch', 'cask')),
}

OBJ_RTOL = 1e-6
THETA_TOL = 1e-4      # the optimizer path may differ slightly: θ compared loosely (relative, floor 1e-4 absolute)
FIXEF_RTOL = 1e-5
SIGMA_RTOL = 1e-5


def fit(formula, data, REML=True):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        return lmer(formula, data, REML=REML)


@lru_cache(maxsize=None)
def base(key, REML=True):
    data, formula, _, _ = MODELS[key]
    return fit(formula, load(data), REML)


def assert_theta_close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.all(np.abs(a - b) <= THETA_TOL * np.maximum(np.abs(b), 1.0)), (a, b)


def assert_same_fit(m, m0):
    assert m.objective == pytest.approx(m0.objective, rel=OBJ_RTOL)
    # evaluated at the same θ, the criterion agrees to rounding
    assert m.objective_at(m0.theta) == pytest.approx(m0.objective, rel=1e-9)
    assert_theta_close(m.theta, m0.theta)
    assert m.sigma == pytest.approx(m0.sigma, rel=SIGMA_RTOL)
    assert list(m.fixef.index) == list(m0.fixef.index)
    scale = np.abs(m0.fixef.to_numpy()).max()
    np.testing.assert_allclose(m.fixef.to_numpy(), m0.fixef.to_numpy(), rtol=FIXEF_RTOL, atol=FIXEF_RTOL * 1e-3 * scale)
    assert m.nobs == m0.nobs and m.ngroups == m0.ngroups


# ---------------------------------------------------------------- row order

def _shuffle_case(key):
    data, formula, _, _ = MODELS[key]
    n = len(load(data))

    @SETTINGS
    @given(perm=st.permutations(range(n)), keep_index=st.booleans())
    def prop(perm, keep_index):
        df = load(data).iloc[list(perm)]
        if not keep_index: df = df.reset_index(drop=True)
        m, m0 = fit(formula, df), base(key)
        assert_same_fit(m, m0)
        # conditional modes do not depend on the row order
        for g, re0 in m0.ranef().items():
            re = m.ranef()[g].loc[re0.index]
            np.testing.assert_allclose(re.to_numpy(), re0.to_numpy(), atol=1e-4 * np.abs(re0.to_numpy()).max())
        # fitted values travel with their rows
        f0 = m0.fitted()
        f = m.fitted()
        if keep_index: f = f.loc[f0.index]
        else: f = pd.Series(f.to_numpy(), index=list(perm)).sort_index()   # row i of df is original row perm[i]
        np.testing.assert_allclose(f.to_numpy(), f0.to_numpy(), rtol=1e-5)
    prop()


@pytest.mark.parametrize('key', list(MODELS))
def test_row_shuffle(key):
    _shuffle_case(key)


# ---------------------------------------------------------------- relabelling levels

_labels = st.text(min_size=1, max_size=8)


def _relabel_case(key, as_category):
    data, formula, _, groups = MODELS[key]
    df0 = load(data)
    nlev = {g: df0[g].cat.categories.size for g in groups}

    @SETTINGS
    @given(new=st.fixed_dictionaries({g: st.lists(_labels, min_size=k, max_size=k, unique=True) for g, k in nlev.items()}))
    def prop(new):
        df = load(data)
        maps = {}
        for g in groups:
            old = list(df[g].cat.categories)
            maps[g] = dict(zip(old, new[g]))
            col = df[g].astype(str).map(maps[g])
            df[g] = pd.Categorical(col) if as_category else col.astype(object)
        m, m0 = fit(formula, df), base(key)
        assert_same_fit(m, m0)
        re, re0 = m.ranef(), m0.ranef()
        assert set(re) == set(re0)
        for g in groups:
            assert sorted(re[g].index) == sorted(maps[g].values())
            moved = re[g].loc[[maps[g][lev] for lev in re0[g].index]]
            a0 = re0[g].to_numpy()
            np.testing.assert_allclose(moved.to_numpy(), a0, atol=1e-4 * np.abs(a0).max())
    prop()


@pytest.mark.parametrize('as_category', [True, False], ids=['categorical', 'object'])
@pytest.mark.parametrize('key', ['sleepstudy', 'penicillin'])
def test_relabel_levels(key, as_category):
    _relabel_case(key, as_category)


# ---------------------------------------------------------------- y -> a*y + c

_a = st.one_of(st.floats(0.1, 100), st.floats(-100, -0.1))
_k = st.floats(-1e4, 1e4)   # c = k·|a|·max|y|: shifts up to 10⁴ times the (scaled) data's magnitude (Blocks fits y − Xβ₀)


def _affine_case(key, REML):
    data, formula, yname, _ = MODELS[key]
    ymax = float(load(data)[yname].abs().max())

    @SETTINGS
    @given(a=_a, k=_k)
    @example(a=0.1, k=10.0)
    @example(a=-0.1, k=-10.0)
    @example(a=100.0, k=-10.0)
    @example(a=-1.0, k=0.0)
    def prop(a, k):
        c = k * abs(a) * ymax
        df = load(data)
        df[yname] = a * df[yname] + c
        m, m0 = fit(formula, df, REML), base(key, REML)
        n, p = m0.nobs, len(m0.fixef)
        # REML criterion: (n-p)·(1 + log(2π pwrss/(n-p))) + log|L|² + log|R_X|²; pwrss → a²·pwrss and the
        # determinants do not involve y, so it moves by (n-p)·log a²; the deviance (ML) by n·log a².
        shift = 2 * (n - p) * np.log(abs(a)) if REML else 2 * n * np.log(abs(a))
        assert m.objective_at(m0.theta) == pytest.approx(m0.objective + shift, rel=1e-9)
        assert m.objective == pytest.approx(m0.objective + shift, rel=OBJ_RTOL)
        assert m.objective <= m0.objective + shift + OBJ_RTOL * abs(m0.objective)
        assert_theta_close(m.theta, m0.theta)
        assert m.sigma == pytest.approx(abs(a) * m0.sigma, rel=SIGMA_RTOL)
        expect = a * m0.fixef
        expect['(Intercept)'] += c
        scale = np.abs(expect.to_numpy()).max()
        np.testing.assert_allclose(m.fixef.to_numpy(), expect.to_numpy(), rtol=FIXEF_RTOL, atol=1e-6 * scale)
        se, se0 = np.sqrt(np.diag(m.vcov)), np.sqrt(np.diag(m0.vcov))
        np.testing.assert_allclose(se, abs(a) * se0, rtol=1e-4)
        for g, re0 in m0.ranef().items():
            np.testing.assert_allclose(m.ranef()[g].to_numpy(), a * re0.to_numpy(), atol=1e-4 * abs(a) * np.abs(re0.to_numpy()).max())
        np.testing.assert_allclose(m.fitted().to_numpy(), a * m0.fitted().to_numpy() + c, rtol=1e-5)
    prop()


@pytest.mark.parametrize('REML', [True, False], ids=['REML', 'ML'])
@pytest.mark.parametrize('key', ['sleepstudy', 'penicillin'])
def test_affine_response(key, REML):
    _affine_case(key, REML)


# ---------------------------------------------------------------- the caller's data is never modified

@SETTINGS
@given(key=st.sampled_from(list(MODELS)), data=st.data())
def test_input_not_modified(key, data):
    name, formula, yname, groups = MODELS[key]
    df = load(name)
    n = len(df)
    # some missing values, a non-default index, some groups as plain strings, an extra unused column
    na_rows = data.draw(st.lists(st.integers(0, n - 1), max_size=5, unique=True), label='na_rows')
    df.loc[df.index[na_rows], yname] = np.nan
    if data.draw(st.booleans(), label='string_groups'):
        df[groups[0]] = df[groups[0]].astype(str).astype(object)
    if data.draw(st.booleans(), label='shift_index'):
        df.index = df.index * 3 + 7
    df['unused'] = np.arange(n) % 4
    before = df.copy(deep=True)
    m = fit(formula, df, REML=data.draw(st.booleans(), label='REML'))
    m.ranef(); m.ranef(long=True); m.fitted(); m.residuals(); m.coef(); m.condvar(); m.varcorr; m.vcov
    pd.testing.assert_frame_equal(df, before)
    assert m.nobs == n - len(na_rows) and m.design.n_dropped == len(na_rows)
    # fitted values carry the caller's row labels for the rows used
    assert list(m.fitted().index) == [i for i in df.index if i not in set(df.index[na_rows])]


# ---------------------------------------------------------------- a large constant in y (numerical robustness)

@pytest.mark.parametrize('key, c', [('penicillin', 1e5), ('penicillin', 1e6), ('sleepstudy', 1e6)])
def test_large_response_offset(key, c):
    """y + c for a large c (a response measured from a far-away origin) is the same model: only the
    intercept moves. Double precision has room for this (|c|/sd(y) ≤ 1e6 leaves ~10 significant digits in the
    residuals), so θ, σ and the criterion must not change."""
    data, formula, yname, _ = MODELS[key]
    df = load(data)
    df[yname] = df[yname] + c
    m, m0 = fit(formula, df), base(key)
    assert m.objective_at(m0.theta) == pytest.approx(m0.objective, rel=1e-8)
    assert m.objective == pytest.approx(m0.objective, rel=OBJ_RTOL)
    assert_theta_close(m.theta, m0.theta)
    assert m.sigma == pytest.approx(m0.sigma, rel=SIGMA_RTOL)
    assert m.fixef['(Intercept)'] - c == pytest.approx(m0.fixef['(Intercept)'], rel=FIXEF_RTOL)
