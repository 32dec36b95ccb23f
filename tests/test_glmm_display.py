"""The linear model's displays on GLMMs (issue 12): ranef(condVar=True), coef, the caterpillar and shrinkage plots,
the Z picture, the HTML summary and the θ explorer.

References: lme4 1.1-31's `attr(ranef(m, condVar = TRUE)[[g]], "postVar")`, conditional modes, θ and β of five fits
(tests/reference/glmm/lme4_glmm_condvar.json, made by make_condvar_refs.R there), and lme4's printed summary of cbpp
(lme4_glmm.json). Our conditional variances are compared with lme4's twice: at lme4's own (θ, β) (the model moved
there by `at_theta`), where only the PIRLS tolerance separates the two, and at our own fit, where the two optima's
small difference adds to it. The no-pooling estimates of the shrinkage plot are checked against each level's binomial
likelihood maximized directly with scipy, not against our own IRLS.
"""
import json, re, warnings
from pathlib import Path

import numpy as np, pandas as pd
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit
from matplotlib.collections import LineCollection

from mixednb import glmer, load, MixedModelError, GeneralizedLinearMixedModel
from mixednb.plots import no_pooling, shrinkage, caterpillar_plot, shrinkage_plot
from mixednb.display import summary_html
from mixednb.widgets import ThetaExplorer

HERE = Path(__file__).parent / 'reference' / 'glmm'
CV = {f['id']: f for f in json.loads((HERE / 'lme4_glmm_condvar.json').read_text())['fits']}
SUMMARY = {f['id']: f for f in json.loads((HERE / 'lme4_glmm.json').read_text())['fits']}
FAMILY = {'binomial': 'binomial', 'poisson': 'poisson', 'Gamma': 'Gamma(log)'}
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"


@pytest.fixture(scope='module')
def fits():
    "Our fit of each reference case."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return {k: glmer(f['formula'], load(f['data']), family=FAMILY[f['family']]) for k, f in CV.items()}


@pytest.fixture(scope='module')
def gm(fits):
    return fits['cbpp_binomial']


def _by_level(m, group, R):
    "Our (modes, condvar) of `group`, rows in the order of lme4's levels (R's sort order differs for VerbAgg's items)."
    i = [k for k, t in enumerate(m.design.terms) if t.group == group][0]
    pos = pd.Index(m.design.terms[i].levels).get_indexer(R['levels'])
    assert (pos >= 0).all()
    return m.ranef()[group].to_numpy()[pos], m.condvar()[i][pos]


@pytest.mark.parametrize('case', sorted(CV))
def test_condvar_equals_lme4_postvar_at_lme4s_estimates(fits, case):
    R = CV[case]['tight']
    mt = fits[case].at_theta(R['theta'], list(R['fixef'].values()))
    for g in R['ranef']:
        modes, cv = _by_level(mt, g['group'], g)
        pv = np.array(g['postVar'])
        np.testing.assert_allclose(modes, np.array(g['condval']), rtol=0, atol=1e-6 * np.abs(g['condval']).max())
        np.testing.assert_allclose(cv, pv, rtol=0, atol=1e-4 * np.abs(pv).max())


@pytest.mark.parametrize('case', sorted(CV))
def test_ranef_condvar_at_our_fit_is_lme4s(fits, case):
    "At our own fit (≈ lme4's default fit: θ̂ agree to ~1e-4) the postVar agree to 2e-3 of their size."
    m, R = fits[case], CV[case]['default']
    re_ = m.ranef(condVar=True)
    for g in R['ranef']:
        _, cv = _by_level(m, g['group'], g)
        pv = np.array(g['postVar'])
        np.testing.assert_allclose(cv, pv, rtol=0, atol=2e-3 * np.abs(pv).max())
        sd = re_.condsd[g['group']].to_numpy()
        i = [k for k, t in enumerate(m.design.terms) if t.group == g['group']][0]
        np.testing.assert_allclose(sd, np.sqrt(np.diagonal(m.condvar()[i], axis1=1, axis2=2)), rtol=1e-12)


def test_gamma_condvar_is_scaled_by_sigma_squared(fits):
    "lme4 multiplies by sigma(m)^2 (the dispersion's σ̂ for the Gamma): the reference's numbers need the factor."
    m, R = fits['sleepstudy_gamma_log'], CV['sleepstudy_gamma_log']['tight']
    assert R['sigma'] == pytest.approx(0.10541, abs=1e-4)
    mt = m.at_theta(R['theta'], list(R['fixef'].values()))
    pv = np.array(R['ranef'][0]['postVar'])[:, 0, 0]
    np.testing.assert_allclose(mt.condvar()[0][:, 0, 0], pv, rtol=1e-5)
    assert not np.allclose(mt.condvar()[0][:, 0, 0] / mt.sigma ** 2, pv, rtol=1e-2)


def test_ranef_long_and_coef(gm):
    long = gm.ranef(long=True)
    assert list(long.columns) == ['grpvar', 'term', 'grp', 'condval', 'condsd']
    pv = np.array(CV['cbpp_binomial']['default']['ranef'][0]['postVar'])[:, 0, 0]
    np.testing.assert_allclose(long.condsd, np.sqrt(pv), rtol=5e-4)
    co = gm.coef()['herd']
    np.testing.assert_allclose(co['(Intercept)'], gm.fixef['(Intercept)'] + gm.ranef()['herd']['(Intercept)'], rtol=1e-12)
    np.testing.assert_allclose(co['period2'], gm.fixef['period2'])
    assert isinstance(gm.ranef(), dict)                         # still a dict (a RandomEffects)


def test_caterpillar_intervals_are_lme4s(gm):
    fig = caterpillar_plot(gm)
    ax = fig.axes[0]
    g = CV['cbpp_binomial']['default']['ranef'][0]
    segs = np.array([s for lc in ax.collections if isinstance(lc, LineCollection) for s in lc.get_segments()])
    half, mid = (segs[:, 1, 0] - segs[:, 0, 0]) / 2, (segs[:, 1, 0] + segs[:, 0, 0]) / 2
    np.testing.assert_allclose(np.sort(half), np.sort(1.959964 * np.sqrt(np.array(g['postVar'])[:, 0, 0])), rtol=1e-3)
    np.testing.assert_allclose(np.sort(mid), np.sort(np.array(g['condval'])[:, 0]), atol=2e-3)
    assert 'logit scale' in ax.get_xlabel()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    order = np.argsort(np.array(g['condval'])[:, 0], kind='stable')
    assert labels == [g['levels'][i] for i in order]             # sorted by the mode, as lme4's dotplot


def test_caterpillar_vector_term(fits):
    m = fits['contraception_slope']
    fig = m.plot_caterpillar()
    assert [a.get_title() for a in fig.axes] == ['(Intercept) | district', 'urbanY | district']
    g = CV['contraception_slope']['default']['ranef'][0]
    pv = np.array(g['postVar'])
    for k, ax in enumerate(fig.axes):
        segs = np.array([s for lc in ax.collections if isinstance(lc, LineCollection) for s in lc.get_segments()])
        np.testing.assert_allclose(np.sort((segs[:, 1, 0] - segs[:, 0, 0]) / 2), np.sort(1.959964 * np.sqrt(pv[:, k, k])), rtol=2e-3)


def test_no_pooling_is_each_herds_own_glm(gm):
    cb = load('cbpp')
    before = cb.copy()
    est = no_pooling(gm)
    pd.testing.assert_frame_equal(cb, before)                    # the caller's data is not modified
    off = gm.design.X[:, 1:] @ gm.fixef.to_numpy()[1:]
    herd, k_, n_ = cb.herd.astype(str).to_numpy(), cb.incidence.to_numpy(), cb['size'].to_numpy()
    for h in est.index:
        r = herd == h
        if k_[r].sum() == 0:                                     # no case: the own log-odds is −∞, no estimate
            assert np.isnan(est.loc[h].iloc[0]); continue
        nll = lambda a: -np.sum(k_[r] * np.log(expit(a + off[r])) + (n_[r] - k_[r]) * np.log(expit(-a - off[r])))
        a = minimize_scalar(nll, bounds=(-15, 15), method='bounded', options=dict(xatol=1e-10)).x
        assert est.loc[h].iloc[0] == pytest.approx(a, abs=1e-5), h


def test_no_pooling_poisson_against_closed_form(fits):
    "Poisson, log link, intercept only, offset o: the own estimate is log(Σy / Σe^o) in closed form."
    m = fits['grouseticks_poisson']
    t = [t for t in m.design.terms if t.group == 'LOCATION'][0]
    est = no_pooling(m, 'LOCATION').iloc[:, 0].to_numpy()
    off = m.design.X[:, 1:] @ m.fixef.to_numpy()[1:]              # the fixed effects other than the intercept
    sy, se = np.bincount(t.codes, m.design.y, t.nlev), np.bincount(t.codes, np.exp(off), t.nlev)
    with np.errstate(divide='ignore'): want = np.log(sy / se)
    fin = np.isfinite(want)
    np.testing.assert_allclose(est[fin], want[fin], rtol=0, atol=1e-7)
    assert np.isnan(est[~fin]).all()


def test_shrinkage_partial_is_coef(gm):
    nopool, partial, pop = shrinkage(gm)
    np.testing.assert_allclose(partial['(Intercept)'], gm.coef()['herd']['(Intercept)'], rtol=1e-12)
    assert pop['(Intercept)'] == gm.fixef['(Intercept)']
    fig = gm.plot_shrinkage()
    ax = fig.axes[0]
    assert 'logit scale' in ax.get_xlabel()
    k = int(np.isfinite(nopool.to_numpy()).sum())
    assert (f"{k} of 15 levels" in ax.get_title()) == (k < 15)


def test_plot_Z_of_a_glmm(gm):
    fig = gm.plot_Z()
    ax = fig.axes[0]
    assert ax.get_title() == "Z: 56 × 15, 56 nonzeros"            # one 1 per row, in its herd's column
    img = ax.images[0].get_array().filled(0) != 0
    np.testing.assert_array_equal(img.argmax(axis=1), gm.design.terms[0].codes)
    assert gm.plot_Lambda().axes[0].get_title().startswith('Λθ: 15 × 15')


def test_html_summary_has_lme4s_numbers(gm):
    h = gm._repr_html_()
    assert h == summary_html(gm)
    # lme4's exact optimum ("precise": its default cbpp fit stops short, see test_glmm.py), as lme4 prints numbers
    P = SUMMARY['cbpp_binomial']['precise']
    for v in [*P['fixef'].values(), *P['se'].values()]: assert f"{v:.4f}" in h, v
    assert f"{np.ravel(P['theta'])[0] ** 2:.4f}" in h and f"{np.ravel(P['theta'])[0]:.4f}" in h         # Variance, Std.Dev.
    for v in (P['minus2logLik'], P['minus2logLik'] / -2, P['minus2logLik'] + 10): assert f"{v:.1f}" in h, v
    # and every token of the text summary's tables (itself compared with lme4 in test_glmm.py), formatted alike
    text = str(gm.summary())
    body = text[text.index('Scaled residuals'):text.index('optimizer (bobyqa)')]
    for tok in re.findall(r'-?\d[\d.e-]*|\*+', body): assert tok in h, tok
    assert 'z value' in h and 'Pr(&gt;|z|)' in h and 't value' not in h and 'Satterthwaite' not in h
    assert 'Laplace approximation' in h and 'binomial (logit link)' in h and 'herd, 15' in h
    assert 'Residual' not in h                                     # no dispersion: no Residual row, as lme4
    assert GeneralizedLinearMixedModel(CBPP, load('cbpp'))._repr_html_() is None


def test_html_summary_gamma_and_agq(fits):
    hg = fits['sleepstudy_gamma_log']._repr_html_()
    assert 't value' in hg and 'Residual' in hg and 'Gamma (log link)' in hg
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        g9 = glmer(CBPP, load('cbpp'), nAGQ=9)
    assert 'adaptive Gauss–Hermite quadrature, nAGQ = 9' in g9._repr_html_()


def test_html_summary_escapes_and_warns():
    g = glmer(CBPP, load('cbpp'), data_name='<b>cbpp</b>')
    g.notes.append('a <note>')
    h = g._repr_html_()
    assert '&lt;b&gt;cbpp&lt;/b&gt;' in h and '<b>cbpp</b>' not in h and 'a &lt;note&gt;' in h


def test_theta_explorer_opens_at_the_fit(gm):
    ex = ThetaExplorer(gm, npts=9)
    st = ex.state
    assert np.array_equal(ex.theta, gm.theta)
    assert st['criterion'] == pytest.approx(gm.objective, rel=1e-10)
    assert f"{gm.objective:.6g}" in ex.readout.value               # −2 log L, the summary's 'deviance'
    assert f"{gm.deviance:.6g}" in ex.readout.value                # lme4's deviance(): Σ dᵢ at the modes
    assert st['aic'] + st['usq'] + st['ldL2'] == pytest.approx(st['criterion'], rel=1e-12)
    assert 'Laplace deviance' in ex.fig.axes[0].get_ylabel()
    xs, ys = ex.slices[0]
    assert ys.min() >= gm.objective - 1e-6 * gm.objective         # the slice through θ̂ lies above the minimum


def test_theta_explorer_moves_and_returns(gm):
    ex = ThetaExplorer(gm, npts=5)
    ex.sliders[0].value = 0.2
    st = ex.state
    assert st['criterion'] == pytest.approx(gm.objective_at([0.2]), rel=1e-12)
    assert st['criterion'] > gm.objective
    assert st['aic'] + st['usq'] + st['ldL2'] == pytest.approx(st['criterion'], rel=1e-12)
    # the shrinkage picture is at θ = 0.2: the partially pooled points are β̂ + b̃(0.2)
    np.testing.assert_allclose(np.sort(ex.moving[0].get_offsets()[:, 0]), np.sort(shrinkage(st['model'])[1].iloc[:, 0]), rtol=1e-12)
    np.testing.assert_allclose(st['beta'], gm.fixef)              # β held at β̂
    ex.reset.click()
    assert ex.state['criterion'] == pytest.approx(gm.objective, rel=1e-10)
    assert 'data:image/png;base64,' in ex._static_html()            # the still frames, for a page without a kernel


def test_theta_explorer_agq_and_several_terms(fits):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        g9 = glmer(CBPP, load('cbpp'), nAGQ=9)
    ex = g9.explore_theta(plot=None, npts=3)
    assert ex.state['criterion'] == pytest.approx(g9.objective, rel=1e-10)
    assert f"{g9.objective:.6g}" in ex.readout.value and 'AGQ' in ex.readout.value
    m = fits['grouseticks_poisson']
    ex3 = m.explore_theta(plot=None, npts=3)
    assert [s.description for s in ex3.sliders] == ['INDEX.(Intercept)', 'BROOD.(Intercept)', 'LOCATION.(Intercept)']
    assert ex3.state['criterion'] == pytest.approx(m.objective, rel=1e-10)


def test_at_theta_and_bad_input(gm):
    mt = gm.at_theta(gm.theta * 2)
    assert mt.objective > gm.objective and gm.at_theta(gm.theta).objective == pytest.approx(gm.objective, rel=1e-10)
    np.testing.assert_allclose(gm.theta * 2, mt.theta)
    assert np.allclose(gm.theta, gm.at_theta(gm.theta).theta)       # the fit itself is unchanged
    with pytest.raises(MixedModelError, match='θ needs 1'): gm.at_theta([1, 2])
    with pytest.raises(MixedModelError, match='β needs 4'): gm.at_theta(gm.theta, [0, 1])
    with pytest.raises(MixedModelError, match='not fitted'):
        GeneralizedLinearMixedModel(CBPP, load('cbpp')).explore_theta()
    with pytest.raises(MixedModelError, match='not fitted'):
        GeneralizedLinearMixedModel(CBPP, load('cbpp')).ranef(condVar=True)


# --- The rest of the linear model's displays on GLMMs: residuals, the factor's blocks, the profile, and the methods
# --- that are not defined for a GLMM. cbpp (binomial, one term) and grouseticks (Poisson, two crossed terms).

GT = "TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION)"


@pytest.fixture(scope='module')
def gt():
    return glmer(GT, load('grouseticks'), family='poisson')


def _Zs(m):
    "Z of the model from the data alone: one indicator column per level, per term (every term here is scalar)."
    from scipy import sparse
    blocks = []
    for t in m.design.terms:
        codes = pd.Categorical(m.design.frame[t.group]).codes
        blocks.append(sparse.csr_matrix((np.ones(len(codes)), (np.arange(len(codes)), codes))).toarray())
    return blocks


@pytest.mark.parametrize('which', ['cbpp', 'grouseticks'])
@pytest.mark.parametrize('type', ['pearson', 'deviance'])
def test_plot_residuals_draws_the_residuals_against_eta(gm, gt, which, type):
    m = gm if which == 'cbpp' else gt
    fig = m.plot_residuals(type=type)
    a1, a2 = fig.axes
    x, r = np.asarray(a1.collections[0].get_offsets()).T
    y, wt = m.problem.y, m.problem.wt
    mu = m.fitted().to_numpy()
    eta = m.design.X @ m.fixef.to_numpy() + sum(Z @ b[:, 0] for Z, b in zip(_Zs(m), m._b()))   # η̂ = Xβ̂ + Zb̃
    np.testing.assert_allclose(x, eta, rtol=0, atol=1e-10)
    if type == 'pearson':                                                # (y − μ)/√(V(μ)/w), V by the family
        V = mu * (1 - mu) if which == 'cbpp' else mu
        np.testing.assert_allclose(r, (y - mu) / np.sqrt(V / wt), rtol=1e-12)
    else:                                                                # Σ r² is lme4's deviance(), the unit deviances summed
        assert (r ** 2).sum() == pytest.approx(m.deviance, rel=1e-12)
        assert np.all(np.sign(r) == np.sign(y - mu))
    np.testing.assert_allclose(r, m.residuals(type).to_numpy())
    line = [l for l in a1.lines if l.get_gid() == 'binned-mean'][0]
    bx, by = line.get_data()
    assert len(bx) == 20 and np.all(np.diff(bx) > 0)
    n = np.array([len(p) for p in np.array_split(np.arange(len(r)), 20)])
    assert (by * n).sum() == pytest.approx(r.sum(), abs=1e-9)          # bin means of equal-count bins average back
    assert a1.get_xlabel().startswith('linear predictor') and type in a1.get_ylabel()
    q, s = np.asarray(a2.collections[0].get_offsets()).T
    np.testing.assert_allclose(s, np.sort(r))


def test_plot_residuals_bad_type(gm):
    with pytest.raises(MixedModelError, match="'pearson' or 'deviance'"): gm.plot_residuals(type='working')
    lm = load('sleepstudy')
    from mixednb import lmer
    with pytest.raises(MixedModelError, match="type"): lmer("Reaction ~ Days + (1 | Subject)", lm).plot_residuals(type='pearson')


@pytest.mark.parametrize('which', ['cbpp', 'grouseticks'])
def test_L_is_the_weighted_factor_at_the_mode(gm, gt, which):
    """The random-effects rows of L: L_Z L_Z' = Λ'Z'WZΛ + I with W = wt μ'(η)²/V(μ) from the data (canonical links:
    wt V(μ)); the X rows (stored for a QR-conditioned X) give R_X with (R_X'R_X)⁻¹ = the Schur complement's inverse,
    (X'WX − X'WZΛ(Λ'Z'WZΛ + I)⁻¹Λ'Z'WX)⁻¹, which is `vcov_rx`."""
    from mixednb.objective import dense
    m = gm if which == 'cbpp' else gt
    mu, wt = m.fitted().to_numpy(), m.problem.wt
    W = wt * (mu * (1 - mu) if which == 'cbpp' else mu)
    ZL = np.hstack([Z * th for Z, th in zip(_Zs(m), m.theta)])
    X = m.design.X
    AZ = ZL.T @ (W[:, None] * ZL) + np.eye(ZL.shape[1])
    L, k = m.L, len(m.design.terms)
    sizes = [t.q for t in m.design.terms]
    off = np.r_[0, np.cumsum(sizes)]
    LZ = np.zeros((off[-1], off[-1]))
    for (i, j), B in L.items():
        if 'X' in (i, j): continue
        LZ[off[i]:off[i + 1], off[j]:off[j + 1]] = dense(B)
    np.testing.assert_allclose(LZ @ LZ.T, AZ, rtol=1e-9, atol=1e-9 * np.abs(AZ).max())
    XWZ = X.T @ (W[:, None] * ZL)
    schur = X.T @ (W[:, None] * X) - XWZ @ np.linalg.solve(AZ, XWZ.T)
    np.testing.assert_allclose(m.vcov_rx.to_numpy(), np.linalg.inv(schur), rtol=1e-7)
    fig = m.plot_L_blocks()
    ax = fig.axes[0]
    assert 'weighted by W' in ax.get_title()
    kinds = {p.get_gid() for p in ax.patches}
    assert 'L-block-X|y rows' in kinds and 'L-block-block-diagonal' in kinds
    assert (which == 'grouseticks') == any(g in kinds for g in ('L-block-sparse', 'L-block-dense'))   # BROOD × LOCATION
    assert len([p for p in ax.patches if p.get_gid().startswith('L-block')]) == len(list(L.items()))


def test_plot_profile_cbpp(gm):
    fig = gm.plot_profile()
    names = list(gm.pars.index)
    axs = [a for a in fig.axes if a.get_title()]                         # a grid of 2 × 3, one panel unused
    assert [a.get_title() for a in axs] == names
    ci = gm.confint()
    for a, name in zip(axs, names):
        x, z = a.lines[0].get_data()
        assert np.all(np.diff(x) > 0) and np.all(np.diff(z) > 0)        # ζ increases through the estimate
        assert z[np.argmin(np.abs(x - gm.pars[name]))] == pytest.approx(0, abs=1e-12)
        ends = [l.get_xdata()[0] for l in a.lines if l.get_linestyle() == ':']
        np.testing.assert_allclose(ends, ci.loc[name].to_numpy(), rtol=1e-9)
        assert np.interp(ends, x, z) == pytest.approx([-1.96, 1.96], abs=0.05)   # the grid crosses ±z at the ends
    assert fig.axes[0].get_xlabel() == 'σ_(Intercept)|herd'


def test_plot_profile_grouseticks_sd(gt):
    "The profile of the BROOD standard deviation: ζ² is the rise of −2 log L over a refit with that sd held."
    prof = gt.profile(parm='sd_(Intercept)|BROOD')
    fig = prof.plot()
    x, z = fig.axes[0].lines[0].get_data()
    assert len(x) == 13 and (np.diff(z) > 0).all()
    v, zeta = x[3], z[3]
    # refit with θ_BROOD held at v: minimize over the rest with the model's own deviance, by scipy (not the profiler)
    from scipy.optimize import minimize
    i = [t.group for t in gt.design.terms].index('BROOD')
    x0 = np.r_[np.delete(gt.theta, i), gt.fixef.to_numpy()]
    def dev(xf):
        th = np.insert(xf[:1], i, v)
        return gt.at_theta(np.abs(th), xf[1:]).objective
    res = minimize(dev, x0, method='Nelder-Mead', options=dict(xatol=1e-7, fatol=1e-9, maxiter=4000, maxfev=4000))
    assert res.fun - gt.objective == pytest.approx(zeta ** 2, abs=2e-3)


def test_profile_refuses_what_it_does_not_profile():
    df = load('sleepstudy')
    gam = glmer("Reaction ~ Days + (1 | Subject)", df, family='Gamma(log)')
    with pytest.raises(MixedModelError, match='cannot be profiled'): gam.profile(parm='sd_(Intercept)|Subject')
    with pytest.raises(MixedModelError, match='cannot be profiled'): gam.plot_profile(parm='sigma')


def test_check_convergence_and_singular(gm, gt):
    cc = gm.check_convergence()
    assert cc['converged'] and cc['names'] == ['θ1', '(Intercept)', 'period2', 'period3', 'period4']
    assert cc['predicted_decrease'] < 1e-8 and (cc['hessian_eigenvalues'] > 0).all()
    np.testing.assert_allclose(cc['newton_step'], np.linalg.solve(gm._fit.H, gm._fit.g))
    assert gm.singular_terms() == [] and gm.explain_singular() == []
    assert set(gt.rePCA()) == {'BROOD', 'LOCATION'}
    nz = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", load('cbpp'), nAGQ=0)
    with pytest.raises(MixedModelError, match='calc_derivs'): nz.check_convergence()


def test_resim_draws_from_condvar(gm):
    sims = gm.resim(4000, seed=2)
    b, cv = gm.ranef()['herd']['(Intercept)'].to_numpy(), gm.condvar()[0][:, 0, 0]
    np.testing.assert_allclose(sims['mean'], b, atol=4 * np.sqrt(cv.max() / 4000))
    np.testing.assert_allclose(sims['sd'], np.sqrt(cv), rtol=0.06)
    gm.plot_resim(n_sims=50, seed=1)


@pytest.mark.parametrize('name, call', [
    ('predict_interval', lambda m: m.predict_interval()),
    ('display', lambda m: m.display()),
    ('emmeans', lambda m: m.emmeans('period')),
    ('anova_type3', lambda m: m.anova_type3()),
    ('allfit', lambda m: m.allfit()),
    ('sample_pymc', lambda m: m.sample_pymc()),
    ('fit_advi', lambda m: m.fit_advi()),
])
def test_lmm_only_methods_say_so(gm, name, call):
    with pytest.raises(MixedModelError, match=f"{name} is not available for a GLMM"): call(gm)


def test_every_lmm_method_exists_on_a_glmm(gm):
    "Each public method of the linear model is a GLMM method too (working, or raising MixedModelError saying why)."
    from mixednb import LinearMixedModel
    missing = [n for n in dir(LinearMixedModel) if not n.startswith('_') and not hasattr(gm, n)]
    assert missing == ['load'] or missing == [], missing        # load: a classmethod, GeneralizedLinearMixedModel.load


def test_the_older_displays_draw_on_grouseticks(gt):
    "The caterpillar and shrinkage plots, Z and Λθ, the HTML summary and the θ explorer on two crossed Poisson terms."
    f = gt.plot_caterpillar('LOCATION')
    assert f.axes[0].get_ylabel().startswith('LOCATION (63 levels')
    gt.plot_shrinkage('BROOD')
    Z = np.hstack(_Zs(gt))
    assert f"{int((Z != 0).sum())} nonzeros" in gt.plot_Z().axes[0].get_title()          # 403 rows × 2 terms
    assert gt.plot_Lambda().axes[0].get_title().startswith(f"Λθ: {Z.shape[1]} × {Z.shape[1]}")
    assert 'YEAR96' in gt._repr_html_() and 'BROOD' in gt._repr_html_()
    ex = gt.explore_theta()
    np.testing.assert_allclose(ex.theta, gt.theta)
