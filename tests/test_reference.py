"""Every lme4 reference fit in tests/reference/*.json (except inference.json), reproduced by `lmer`.

Field meanings: tests/reference/README.md. Each model is fitted once per session (lru_cache)."""
import json, warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from mixednb.datasets import load, names
from mixednb.fit import lmer, MixedModelWarning

REF = Path(__file__).parent / 'reference'
FILES = sorted(p.name for p in REF.glob('*.json') if p.name != 'inference.json')

OBJ_RTOL = 1e-6      # objective, logLik, AIC, BIC
FIXEF_RTOL = 1e-5
SD_RTOL = 1e-3       # SEs, sigma, varcorr SDs, condsd, fitted values
CORR_ATOL = 1e-3
CONDVAL_RTOL = 1e-3  # × the largest |condval| of the grouping factor
RESID_ATOL = 1e-3


def _list(v):
    "A scalar or a list (R's jsonlite unboxes length-1 vectors) as a list."
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _data_name(name):
    hits = [n for n in names() if n.lower() == name.lower()]
    assert len(hits) == 1, f"dataset {name!r} not bundled (have {names()})"
    return hits[0]


@lru_cache(maxsize=None)
def ref(fname):
    return json.loads((REF / fname).read_text())


@lru_cache(maxsize=None)
def fitted_model(fname):
    r = ref(fname)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)   # Dyestuff2 is singular: tested below
        return lmer(r['formula'], load(_data_name(r['data'])), REML=r['REML'])


@pytest.fixture(params=FILES, ids=[f.removesuffix('.json') for f in FILES])
def case(request):
    return ref(request.param), fitted_model(request.param)


def test_reference_files_present():
    assert len(FILES) >= 10
    for f in FILES:
        r = ref(f)
        for k in ('formula', 'data', 'REML', 'objective', 'theta', 'sigma', 'fixef', 'se', 'varcorr', 'ranef'):
            assert k in r, (f, k)


def test_objective(case):
    r, m = case
    ref_obj = r['objective']
    assert m.objective == pytest.approx(ref_obj, rel=OBJ_RTOL)
    # lme4's optimum or a lower one: never worse than lme4 by more than 1e-6 relative
    assert m.objective <= ref_obj + OBJ_RTOL * abs(ref_obj)
    # the stored objective is the criterion at the stored theta
    assert m.objective_at(m.theta) == pytest.approx(m.objective, rel=1e-12)


def test_feval(case, record_property):
    r, m = case
    feval = m.optsum['feval']
    record_property('feval', feval)
    record_property('feval_lme4', r.get('feval'))
    print(f"{r['id']}: feval {feval} (lme4 {r.get('feval')})")
    assert isinstance(feval, (int, np.integer)) and feval > 0


def test_theta_length(case):
    r, m = case
    assert len(m.theta) == len(_list(r['theta']))


def test_fixef(case):
    r, m = case
    ref_fe = r['fixef']
    assert list(m.fixef.index) == list(ref_fe)
    biggest = max(abs(v) for v in ref_fe.values())
    for k, v in ref_fe.items():
        scale = max(abs(v), 1e-3 * biggest)   # a coefficient near 0: relative to the largest |fixef|
        assert abs(m.fixef[k] - v) <= FIXEF_RTOL * scale, (k, m.fixef[k], v)


def test_se(case):
    r, m = case
    se = np.sqrt(np.diag(m.vcov.to_numpy()))
    assert list(m.vcov.index) == list(m.vcov.columns) == list(r['se'])
    for k, s in zip(m.vcov.index, se):
        assert s == pytest.approx(r['se'][k], rel=SD_RTOL), k


def test_sigma(case):
    r, m = case
    assert m.sigma == pytest.approx(r['sigma'], rel=SD_RTOL)


def test_varcorr(case):
    r, m = case
    vc = m.varcorr
    groups = [g for g in vc.grp.unique() if g != 'Residual']
    assert len(groups) == len(r['varcorr'])
    assert vc.loc[vc.grp == 'Residual', 'sdcor'].iloc[0] == pytest.approx(r['sigma'], rel=SD_RTOL)
    for g, rv in zip(groups, r['varcorr']):
        assert g == rv['group']
        terms, sds, corr = _list(rv['terms']), _list(rv['sd']), np.asarray(rv['corr'], float)
        mine = vc[vc.grp == g]
        diag = mine[mine.var2.isna()]
        assert list(diag.var1) == terms, g
        for t, s_ref, s in zip(terms, sds, diag.sdcor):
            scale = max(abs(s_ref), 1e-3 * r['sigma'])   # sd 0 on the boundary (Dyestuff2)
            assert abs(s - s_ref) <= SD_RTOL * scale, (g, t, s, s_ref)
        off = mine[mine.var2.notna()]
        assert len(off) == len(terms) * (len(terms) - 1) // 2
        for _, row in off.iterrows():
            i, j = terms.index(row.var1), terms.index(row.var2)
            assert abs(row.sdcor - corr[i, j]) <= CORR_ATOL, (g, row.var1, row.var2, row.sdcor, corr[i, j])


def test_ranef(case):
    r, m = case
    mine = m.ranef(long=True)
    mine = mine.assign(grp=mine.grp.astype(str)).set_index(['grpvar', 'term', 'grp'])
    assert not mine.index.duplicated().any()
    assert set(mine.index.get_level_values('grpvar')) == set(r['ranef'])
    nref = 0
    for g, rr in r['ranef'].items():
        assert rr['group'] == g
        cond, csd = np.asarray(_list(rr['condval']), float), np.asarray(_list(rr['condsd']), float)
        biggest = np.abs(cond).max()
        atol = CONDVAL_RTOL * biggest if biggest > 0 else 1e-8 * r['sigma']
        for t, lev, cv, sd in zip(_list(rr['term']), _list(rr['level']), cond, csd):
            key = (g, t, str(lev))
            assert key in mine.index, key
            got = mine.loc[key]
            assert abs(got.condval - cv) <= atol, (key, got.condval, cv)
            assert abs(got.condsd - sd) <= SD_RTOL * max(abs(sd), 1e-6 * r['sigma']), (key, got.condsd, sd)
            nref += 1
    assert nref == len(mine)
    # the wide form agrees with the long one
    wide = m.ranef()
    assert set(wide) == set(r['ranef'])
    for g, df in wide.items():
        for t in df.columns:
            for lev, v in df[t].items():
                assert mine.loc[(g, t, str(lev)), 'condval'] == pytest.approx(v, rel=1e-12, abs=1e-12)


def test_fitted_head(case):
    r, m = case
    head = np.asarray(r['fitted_head'], float)
    got = m.fitted().to_numpy()[:len(head)]
    np.testing.assert_allclose(got, head, rtol=SD_RTOL)


def test_resid_quantiles(case):
    r, m = case
    scaled = m.residuals().to_numpy() / m.sigma
    q = np.quantile(scaled, [0, .25, .5, .75, 1])
    np.testing.assert_allclose(q, r['resid_quantiles'], rtol=0, atol=RESID_ATOL)
    np.testing.assert_allclose(m.residuals(scaled=True).to_numpy(), scaled, rtol=1e-12)
    np.testing.assert_allclose(m.residuals().to_numpy() + m.fitted().to_numpy(), m.design.y, rtol=1e-12)


def test_singular(case):
    r, m = case
    assert m.is_singular == r['singular']


def test_ngroups_nobs(case):
    r, m = case
    assert m.ngroups == r['ngrps']
    assert m.nobs == r['nobs']


def test_loglik_aic_bic(case):
    r, m = case
    assert m.loglik == pytest.approx(r['logLik'], rel=OBJ_RTOL)
    assert m.aic == pytest.approx(r['AIC'], rel=OBJ_RTOL)
    assert m.bic == pytest.approx(r['BIC'], rel=OBJ_RTOL)
    assert m.npar == r['df']
