"""Kenward–Roger against pbkrtest/lmerTest (tests/reference/inference14): adjusted vcov, per-coefficient SE and df,
F tests of lmerTest's Type III contrasts and of each term's columns, and lmerTest's anova(m, ddf = "Kenward-Roger")
and anova(m) tables, on six REML fits (balanced, unbalanced, factor × factor and factor × numeric interactions)."""
import numpy as np, pytest
from mixednb import MixedModelError, lmer, load
from mixednb.kenward_roger import KenwardRoger, coef_table_kr, f_test_kr, vcov_kr
from ref14 import REF14, as_list, fit14

MODELS = list(REF14['models'])

@pytest.mark.parametrize('name', MODELS)
def test_fit_matches(name):
    assert abs(fit14(name).objective - REF14['models'][name]['REMLcrit']) < 1e-6

@pytest.mark.parametrize('name', MODELS)
def test_vcov_adj(name):
    Va = np.array(REF14['models'][name]['vcov_adj'])
    assert np.abs(vcov_kr(fit14(name)).to_numpy() - Va).max() < 1e-4 * np.abs(Va).max()

@pytest.mark.parametrize('name', MODELS)
def test_coef_table(name):
    m, c = fit14(name), REF14['models'][name]['kr_coef']
    ct = m.coef_table(ddf='Kenward-Roger')
    assert list(ct.index) == c['names']
    for col, key in [('Estimate', 'Estimate'), ('Std. Error', 'SE'), ('df', 'df'), ('t value', 't')]:
        np.testing.assert_allclose(ct[col], c[key], rtol=1e-4, err_msg=col)
    np.testing.assert_allclose(ct['Pr(>|t|)'], c['p'], rtol=1e-4, atol=1e-12)

@pytest.mark.parametrize('name', MODELS)
def test_f_tests(name):
    m = fit14(name)
    for c in REF14['models'][name]['type3_contests']:
        f = f_test_kr(m, np.atleast_2d(np.array(c['L'], float)))
        assert f['NumDF'] == c['NumDF']
        for key, val in [('F value', 'F'), ('DenDF', 'DenDF'), ('Pr(>F)', 'p'), ('Mean Sq', 'MeanSq')]:
            assert abs(f[key] - c[val]) <= 1e-4 * abs(c[val]) + 1e-12, (c['term'], key)
    for c in REF14['models'][name]['column_contests']:
        L = np.eye(m.design.p)[[m.design.xnames.index(x) for x in as_list(c['columns'])]]
        f = f_test_kr(m, L)
        assert abs(f['F value'] - c['F']) <= 1e-4 * c['F'] and abs(f['DenDF'] - c['DenDF']) <= 1e-4 * c['DenDF']

@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('ddf, key', [('Kenward-Roger', 'anova_kr'), ('Satterthwaite', 'anova_satt')])
def test_anova_table(name, ddf, key):
    a, r = fit14(name).anova(ddf=ddf), REF14['models'][name][key]
    assert list(a.index) == as_list(r['terms'])
    assert list(a['NumDF']) == as_list(r['NumDF'])
    for col, k in [('F value', 'F'), ('DenDF', 'DenDF'), ('Pr(>F)', 'p')]:
        np.testing.assert_allclose(a[col], as_list(r[k]), rtol=1e-4, atol=1e-12, err_msg=col)

def test_summary_kr():
    s = str(fit14('sleep').summary(ddf='Kenward-Roger'))
    assert "t-tests use Kenward-Roger's method" in s
    assert "Days          10.467      1.546  17.000   6.771 3.26e-06 ***" in s      # lmerTest 3.1-3's line

def test_refusals():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ml = lmer("Reaction ~ Days + (Days | Subject)", load('sleepstudy'), REML=False)
    with pytest.raises(MixedModelError, match='needs a REML fit'): KenwardRoger(ml)
    with pytest.raises(MixedModelError, match="ddf must be"): fit14('sleep').coef_table(ddf='kr')
    with pytest.raises(MixedModelError, match="the contrast has 3 columns"): f_test_kr(fit14('sleep'), np.ones(3))
