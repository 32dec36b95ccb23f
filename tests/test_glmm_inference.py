"""GLMM inference (nbs/15c_glmm_inference.ipynb) against lme4: tests/reference/glmm/lme4_glmm_inference.json, made by
make_inference_refs.R there (anova of cbpp with and without period, confint profile and Wald, the GLMM FAQ's Pearson
overdispersion statistic). lme4's profile intervals interpolate a spline through its profile; ours are found by
root-finding on the profile itself, so they are compared at 5e-4."""
import json, warnings
from pathlib import Path

import numpy as np, pandas as pd
import pytest

from mixednb import glmer, lmer, load, anova, MixedModelError, MixedModelWarning
from mixednb.glmm import Gamma
import mixednb.glmm_inference  # noqa: F401  (patches the methods)

REF = json.loads((Path(__file__).parent / 'reference' / 'glmm' / 'lme4_glmm_inference.json').read_text())
F1 = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
_C = {}


def gm1():
    if 'gm1' not in _C: _C['gm1'] = glmer(F1, load('cbpp'))
    return _C['gm1']


def test_anova_against_lme4():
    gm0 = glmer("cbind(incidence, size - incidence) ~ 1 + (1 | herd)", load('cbpp'))
    a, r = anova(gm0, gm1()), REF['anova']
    assert len(a) == 2
    np.testing.assert_allclose(a['npar'], r['npar'])
    np.testing.assert_allclose(a['deviance'], r['deviance'], rtol=1e-7)
    np.testing.assert_allclose(a['AIC'], r['AIC'], rtol=1e-7)
    np.testing.assert_allclose(a['BIC'], r['BIC'], rtol=1e-7)
    assert a['Chisq'].iloc[1] == pytest.approx(r['Chisq'][1], rel=1e-5)
    assert a['Pr(>Chisq)'].iloc[1] == pytest.approx(r['p'][1], rel=1e-4)
    b = gm1().anova(gm0)                                                 # the method, either order
    np.testing.assert_allclose(b['Chisq'].iloc[1], a['Chisq'].iloc[1])


def test_anova_refuses_mixed_kinds():
    probit = glmer(F1, load('cbpp'), family='binomial(probit)')
    with pytest.raises(MixedModelError, match='one kind and family'): anova(gm1(), probit)
    lm = lmer("Reaction ~ Days + (1 | Subject)", load('sleepstudy'), REML=False)
    with pytest.raises(MixedModelError, match='one kind and family'): anova(gm1(), lm)


def test_profile_and_wald_intervals_against_lme4():
    r = REF['confint']
    ci = gm1().confint()
    assert r['names'][0] == '.sig01'                                     # lme4's name; ours the linear model's
    assert list(ci.index) == ['sd_(Intercept)|herd'] + r['names'][1:] and list(ci.columns) == ['2.5 %', '97.5 %']
    np.testing.assert_allclose(ci.iloc[:, 0], r['profile_lower'], atol=5e-4)
    np.testing.assert_allclose(ci.iloc[:, 1], r['profile_upper'], atol=5e-4)
    w = gm1().confint(method='Wald')
    assert list(w.index) == list(ci.index) and w.iloc[0].isna().all()  # lme4 gives no Wald interval for an sd
    assert list(w.index[1:]) == r['wald_names']
    np.testing.assert_allclose(w.iloc[1:, 0], r['wald_lower'], atol=2e-4)
    np.testing.assert_allclose(w.iloc[1:, 1], r['wald_upper'], atol=2e-4)
    pd.testing.assert_frame_equal(gm1().confint(method='wald'), w)       # the linear model's spelling too


def test_profile_interval_is_where_the_deviance_rises_by_z2():
    "Independent of lme4: refitting with period2 held at an end of its interval raises −2 log L by z² = 3.84."
    m = gm1()
    lo = m.confint(parm=['period2']).iloc[0, 0]
    cb = load('cbpp')
    cb = cb.assign(p3=(cb.period == '3').astype(float), p4=(cb.period == '4').astype(float))
    held = glmer("cbind(incidence, size - incidence) ~ p3 + p4 + (1 | herd)", cb,
                 offset=np.where(cb.period == '2', lo, 0.0))
    assert held.objective - m.objective == pytest.approx(3.841459, abs=2e-4)


def test_overdispersion_against_the_faq():
    gp = glmer("TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)", load('grouseticks'), family='poisson')
    for m, r in ((gp, REF['overdispersion']), (gm1(), REF['overdispersion_cbpp'])):
        od = m.overdispersion()
        assert od['rdf'] == r['rdf']
        assert od['chisq'] == pytest.approx(r['chisq'], rel=2e-4)
        assert od['p'] == pytest.approx(r['p'], rel=2e-3)
    assert 'overdispersed' in gp.overdispersion().attrs['note']
    with pytest.raises(MixedModelError, match='overdispersion check'):
        glmer("Reaction ~ Days + (1 | Subject)", load('sleepstudy'), family=Gamma('log')).overdispersion()


def test_refit_and_simulate():
    m = gm1()
    assert m.refit(m.problem.y).objective == pytest.approx(m.objective, rel=1e-9)
    S = m.simulate(3, seed=7)
    assert S.shape == (56, 3) and list(S.index) == list(m.fitted().index)
    k = S.to_numpy() * m.problem.wt[:, None]
    assert np.allclose(k, np.round(k)) and (k >= 0).all() and (k <= m.problem.wt[:, None] + 1e-9).all()
    pd.testing.assert_frame_equal(S, m.simulate(3, seed=7))
    r = m.refit(S['sim_1'])
    assert r.is_fitted and r is not m and m.objective == pytest.approx(gm1().objective)
    with pytest.raises(MixedModelError, match='observations'): m.refit(np.zeros(3))


def test_simulated_means_match_the_model():
    "Poisson: with new random effects, E y = exp(Xβ + σ²/2) for a single scalar term (the lognormal mean)."
    gp = glmer("TICKS ~ YEAR + (1 | BROOD)", load('grouseticks'), family='poisson')
    S = gp.simulate(3000, seed=11).to_numpy()
    eta = gp.predict(re_form=False).to_numpy()
    expect = np.exp(eta + gp.theta[0] ** 2 / 2)
    assert np.mean(S.mean(axis=1) / expect) == pytest.approx(1, abs=0.03)


def test_bootstrap():
    m = gm1()
    b = m.bootstrap(12, seed=5, progress=False)
    assert b.shape == (12, 5) and list(b.columns) == ['sd_(Intercept)|herd', '(Intercept)', 'period2', 'period3', 'period4']
    assert b.notna().all().all() and b.attrs['failed'] == 0
    pd.testing.assert_frame_equal(b, m.bootstrap(12, seed=5, progress=False))
    ci = m.confint(method='boot', nsim=12, seed=5, progress=False)
    assert (ci.iloc[:, 0] <= ci.iloc[:, 1]).all()


def test_separation_note():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(dict(x=rng.normal(size=120), g=pd.Categorical(np.repeat(np.arange(12), 10).astype(str))))
    df['y'] = (df.x > 0).astype(float)                                  # x predicts y perfectly
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        m = glmer("y ~ x + (1 | g)", df)
    assert any('separated' in n for n in m.notes) and 'separated' in str(m.summary())
    assert not any('separated' in n for n in gm1().notes)


def test_bad_arguments():
    with pytest.raises(MixedModelError, match="method must be"): gm1().confint(method='exact')
    with pytest.raises(MixedModelError, match="not parameters"): gm1().confint(parm=['period9'])
    with pytest.raises(MixedModelError, match="level"): gm1().confint(level=1.5)


def _simulated(n_groups=15, per=10, seed=4):
    "Binomial counts with a correlated random intercept and slope per group."
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=g.size)
    b = rng.multivariate_normal([0, 0], [[0.8, 0.3], [0.3, 0.5]], size=n_groups)
    m = rng.integers(3, 8, size=g.size)
    y = rng.binomial(m, 1 / (1 + np.exp(-(-0.3 + 0.7 * x + b[g, 0] + b[g, 1] * x))))
    return pd.DataFrame(dict(s=y, f=m - y, p=y / m, x=x, g=pd.Categorical([f"g{i:02d}" for i in g])))


def test_parameter_names_follow_the_linear_model_in_every_method():
    "The names of `pars`, and the rows of confint (profile, Wald, boot), are the LMM's for the same random effects."
    df = _simulated()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = glmer("cbind(s, f) ~ x + (x | g)", df)
        lm = lmer("p ~ x + (x | g)", df, REML=False)
    names = list(lm.pars.index)
    assert names[:3] == ['sd_(Intercept)|g', 'cor_x.(Intercept)|g', 'sd_x|g'] and names[3] == 'sigma'
    assert list(m.pars.index) == names[:3] + names[4:]                   # no σ for the binomial
    lam = np.array([[m.theta[0], 0], [m.theta[1], m.theta[2]]])          # sd and correlation from θ directly
    S = lam @ lam.T
    np.testing.assert_allclose(m.pars.iloc[:3], [np.sqrt(S[0, 0]), S[0, 1] / np.sqrt(S[0, 0] * S[1, 1]), np.sqrt(S[1, 1])],
                               rtol=1e-12)
    for method in ('Wald', 'boot'):
        ci = m.confint(method=method, nsim=4, seed=1, progress=False)
        assert list(ci.index) == list(m.pars.index), method
    prof = m.confint(parm=['cor_x.(Intercept)|g', 'x'])
    assert list(prof.index) == ['cor_x.(Intercept)|g', 'x'] and prof.notna().all().all()
    assert list(m.bootstrap(3, seed=2, progress=False).columns) == list(m.pars.index)
    gam = glmer("Reaction ~ Days + (1 | Subject)", load('sleepstudy'), family=Gamma('log'))
    assert list(gam.pars.index) == ['sd_(Intercept)|Subject', 'sigma', '(Intercept)', 'Days']
    assert gam.pars['sigma'] == gam.sigma and gam.pars['sd_(Intercept)|Subject'] == pytest.approx(gam.sigma * gam.theta[0])
    with pytest.warns(MixedModelWarning, match='not computed'):
        prof = gam.confint(parm=['sigma', 'Days'])
    assert prof.loc['sigma'].isna().all() and prof.loc['Days'].notna().all()


def test_refit_of_a_bernoulli_response_reads_the_new_response():
    "refit(y) of a 0/1 model equals a fresh fit to y (the deviance's 0/1 shortcut once read the old response)."
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(20), 10)
    x = rng.normal(size=200)
    y = (rng.random(200) < 1 / (1 + np.exp(-(0.3 * x + rng.normal(size=20)[g])))).astype(float)
    df = pd.DataFrame(dict(y=y, x=x, g=g.astype(str)))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        m = glmer("y ~ x + (1 | g)", df)
        y2 = (rng.random(200) < 0.4).astype(float)
        r, fresh = m.refit(y2), glmer("y ~ x + (1 | g)", df.assign(y=y2))
    assert r.objective == pytest.approx(fresh.objective, rel=1e-8)
    np.testing.assert_allclose(r.fixef, fresh.fixef, atol=1e-5)
    assert m.bootstrap(3, seed=1, progress=False).attrs['failed'] == 0


def test_profile_table_is_the_deviance_rise():
    "Independent of the profiler: refitting with period2 held at a grid value raises −2 log L by ζ² there."
    m = gm1()
    prof = m.profile(parm='period2')
    t = prof.table
    assert list(t.parameter.unique()) == ['period2'] and (np.diff(t.value) > 0).all() and (np.diff(t.zeta) > 0).all()
    assert t.zeta.iloc[0] == pytest.approx(-2.5758293, abs=1e-5) and t.zeta.iloc[-1] == pytest.approx(2.5758293, abs=1e-5)
    v, zeta = t.value.iloc[2], t.zeta.iloc[2]
    cb = load('cbpp')
    cb = cb.assign(p3=(cb.period == '3').astype(float), p4=(cb.period == '4').astype(float))
    held = glmer("cbind(incidence, size - incidence) ~ p3 + p4 + (1 | herd)", cb, offset=np.where(cb.period == '2', v, 0.0))
    assert held.objective - m.objective == pytest.approx(zeta ** 2, abs=2e-4)
    pd.testing.assert_frame_equal(prof.ci(), m.confint(parm=['period2']))
    with pytest.raises(MixedModelError, match='not parameters'): m.profile(parm='cor_x|g')


def _vector_fit():
    if 'vec' not in _C:
        df = pd.read_csv(Path(__file__).parent / 'reference' / 'glmm' / 'vector_slope.csv')
        _C['vec'] = glmer("cbind(s, f) ~ x + (x | g)", df), df
    return _C['vec']


PROF = json.loads((Path(__file__).parent / 'reference' / 'glmm' / 'lme4_glmm_profile.json').read_text())


def test_profile_intervals_of_a_vector_term_against_lme4():
    """sd, correlation and sd of (x | g), and the fixed effects, against lme4's confint(profile(m)). lme4 interpolates
    a spline through its profile (linearly for the correlation, whose spline it rejects), we find each end by
    root-finding on ζ: the sds and β agree to 2e-4 (5e-5 at most here), the correlation to 2e-3 (1e-3 at most here,
    lme4's linear interpolation between its grid points; the next test checks our upper end independently)."""
    m, _ = _vector_fit()
    np.testing.assert_allclose(m.theta, PROF['theta'], rtol=1e-4)
    names = ['sd_(Intercept)|g', 'cor_x.(Intercept)|g', 'sd_x|g', '(Intercept)', 'x']
    assert PROF['names'] == ['.sig01', '.sig02', '.sig03', '(Intercept)', 'x']
    for level, lo, hi in ((0.95, 'lower', 'upper'), (0.90, 'lower90', 'upper90')):
        ci = m.confint(level=level)
        assert list(ci.index) == names
        tol = np.array([2e-4, 2e-3, 2e-4, 2e-4, 2e-4])
        assert (np.abs(ci.iloc[:, 0].to_numpy() - PROF[lo]) < tol).all(), (ci.iloc[:, 0].to_numpy() - PROF[lo])
        assert (np.abs(ci.iloc[:, 1].to_numpy() - PROF[hi]) < tol).all(), (ci.iloc[:, 1].to_numpy() - PROF[hi])


def test_correlation_interval_end_is_where_the_deviance_rises_by_z2():
    "Independent of the profiler: with the correlation held at its upper end, the best deviance is 3.84 above the fit."
    from scipy.optimize import minimize
    m, _ = _vector_fit()
    rho = m.confint(parm='cor_x.(Intercept)|g').iloc[0, 1]
    def dev(v):                                                           # v = (sd₁, sd₂, β): λ = diag(sd) chol(R)
        lam = np.diag(v[:2]) @ np.linalg.cholesky(np.array([[1, rho], [rho, 1]]))
        return m.at_theta([lam[0, 0], lam[1, 0], lam[1, 1]], v[2:]).objective
    x0 = np.r_[m.pars[['sd_(Intercept)|g', 'sd_x|g']].to_numpy(), m.fixef.to_numpy()]
    res = minimize(dev, x0, method='Nelder-Mead', options=dict(xatol=1e-8, fatol=1e-10, maxiter=5000, maxfev=5000))
    assert res.fun - m.objective == pytest.approx(3.841459, abs=2e-4)
    prof = m.profile(parm='cor_x.(Intercept)|g')
    assert (prof.table.value.abs() <= 1).all() and (np.diff(prof.table.value) > 0).all()


def test_bootstrap_in_two_processes_is_the_serial_one():
    m = gm1()
    a = m.bootstrap(6, seed=9, progress=False)
    b = m.bootstrap(6, seed=9, progress=False, n_jobs=2)
    pd.testing.assert_frame_equal(a, b)
    assert b.attrs == a.attrs
