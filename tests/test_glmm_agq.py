"""Adaptive Gauss–Hermite quadrature (nbs/15_glmm.ipynb, `agq_deviance`, `glmer(..., nAGQ=k)`) against independent
brute-force integration of the marginal likelihood.

The reference integrals are computed here from the data alone: −2 Σ_j log ∫ Π_i p(y_ij | η_ij(u)) φ_p(u) du, with
η_ij(u) = x_ij'β + z_ij'λu, p(y | η) from scipy.stats and the integral by scipy's `quad` (p = 1) or a trapezoid rule on
a fine 2-D grid (p = 2). Nothing of mixednb's quadrature is used for them. lme4's own nAGQ = 9 fit of cbpp is compared
in tests/test_glmm.py (reference `cbpp_agq9`)."""
import numpy as np, pandas as pd
import pytest
from scipy import integrate, stats

from mixednb import glmer, load, MixedModelError, GeneralizedLinearMixedModel
from mixednb.glmm import pirls, agq_deviance, gh_rule


def simulated(n_groups=12, per=8, seed=3):
    "A small binomial data set with a random intercept and slope in x per group."
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per)
    x = rng.normal(size=g.size)
    b = rng.multivariate_normal([0, 0], [[0.8, 0.3], [0.3, 0.5]], size=n_groups)
    eta = -0.3 + 0.7 * x + b[g, 0] + b[g, 1] * x
    m = rng.integers(3, 8, size=g.size)
    y = rng.binomial(m, 1 / (1 + np.exp(-eta)))
    return pd.DataFrame(dict(s=y, f=m - y, x=x, g=pd.Categorical([f"g{i:02d}" for i in g])))


def brute_2d(df, theta, beta, half=7.0, k=241):
    "−2 log L by the trapezoid rule on a k × k grid over [−half, half]² in u (the standard normal scale)."
    lam = np.array([[theta[0], 0.0], [theta[1], theta[2]]])
    t = np.linspace(-half, half, k)
    U1, U2 = np.meshgrid(t, t, indexing='ij')
    U = np.stack([U1.ravel(), U2.ravel()], axis=1)                  # grid points
    B = U @ lam.T                                                   # b = λu
    logphi = stats.norm.logpdf(U).sum(axis=1)
    total = 0.0
    for lev, rows in df.groupby('g', observed=True):
        x, s, f = rows.x.to_numpy(), rows.s.to_numpy(), rows.f.to_numpy()
        eta = beta[0] + beta[1] * x + B[:, [0]] + B[:, [1]] * x      # (grid, rows)
        ll = stats.binom.logpmf(s, s + f, 1 / (1 + np.exp(-eta))).sum(axis=1) + logphi
        mx = ll.max()
        v = np.exp(ll - mx).reshape(k, k)
        integral = integrate.trapezoid(integrate.trapezoid(v, t, axis=1), t)
        total += -2 * (np.log(integral) + mx)
    return total


def brute_1d(df, y, m, x_cols, beta, theta, group):
    "−2 log L of a scalar random intercept by scipy's quad, per group (binomial counts y of m trials)."
    total = 0.0
    eta0 = x_cols @ beta
    for lev in np.unique(group):
        k = group == lev
        def integrand(u):
            p = 1 / (1 + np.exp(-(eta0[k] + theta * u)))
            return np.exp(stats.binom.logpmf(y[k], m[k], p).sum() + stats.norm.logpdf(u))
        val, err = integrate.quad(integrand, -12, 12, epsabs=0, epsrel=1e-12, limit=200)
        total += -2 * np.log(val)
    return total


@pytest.fixture(scope='module')
def vector_model():
    return GeneralizedLinearMixedModel("cbind(s, f) ~ x + (x | g)", simulated())


def test_product_rule_vector_term_converges_to_brute_force(vector_model):
    m, df = vector_model, simulated()
    P = m.problem
    theta, beta = np.array([0.9, 0.25, 0.6]), np.array([-0.3, 0.7])
    r = pirls(P, theta, beta)
    exact = brute_2d(df, theta, beta)
    errs = {k: abs(agq_deviance(P, theta, r, k) - exact) for k in (1, 2, 3, 5, 9, 15)}
    assert errs[1] == pytest.approx(abs(r.laplace - exact))        # one node: the Laplace approximation
    assert errs[1] > 1e-3                                           # which is visibly off here
    assert errs[15] < 1e-6 * exact and errs[9] < 1e-4
    assert errs[3] < errs[1] and errs[5] < errs[3] and errs[9] < errs[5]


def test_brute_force_grid_is_converged():
    "The reference itself: a coarser and a wider grid agree with it to 1e-8."
    df, theta, beta = simulated(), np.array([0.9, 0.25, 0.6]), np.array([-0.3, 0.7])
    a = brute_2d(df, theta, beta)
    assert brute_2d(df, theta, beta, half=8.0, k=281) == pytest.approx(a, rel=1e-10, abs=1e-8)
    assert brute_2d(df, theta, beta, k=161) == pytest.approx(a, rel=1e-10, abs=1e-8)


def test_fit_with_vector_agq(vector_model):
    "glmer with nAGQ = 7 on (x | g): its deviance at its estimates is the brute-force −2 log L, and the Laplace fit's is not."
    df = simulated()
    m7 = glmer("cbind(s, f) ~ x + (x | g)", df, nAGQ=7)
    m1 = glmer("cbind(s, f) ~ x + (x | g)", df)
    assert m7.objective == pytest.approx(brute_2d(df, m7.theta, m7.fixef.to_numpy()), abs=1e-4)
    exact1 = brute_2d(df, m1.theta, m1.fixef.to_numpy())
    assert abs(m1.objective - exact1) > 1e-3
    assert m7.objective <= exact1 + 1e-4                              # AGQ's optimum is at least as good on the exact scale
    assert 'nAGQ = 7' in str(m7.summary())
    assert m7.vcov_method == 'hessian' and np.isfinite(m7.vcov.to_numpy()).all()


def test_scalar_agq_against_quad():
    cb = load('cbpp')
    m = GeneralizedLinearMixedModel("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb)
    P = m.problem
    theta, beta = np.array([0.65]), np.array([-1.4, -0.99, -1.13, -1.58])
    r = pirls(P, theta, beta)
    X = np.column_stack([np.ones(len(cb))] + [(cb.period == k).to_numpy(float) for k in ('2', '3', '4')])
    exact = brute_1d(cb, cb.incidence.to_numpy(), cb['size'].to_numpy(), X, beta, theta[0], cb.herd.astype(str).to_numpy())
    errs = [abs(agq_deviance(P, theta, r, k) - exact) for k in (1, 3, 9, 25)]
    assert errs[3] < 1e-8 * exact and errs[2] < errs[1] < errs[0]


def test_lme4_scale_leaves_out_the_saturated_constant():
    cb = load('cbpp')
    m = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb, nAGQ=9)
    r = m._fit.r
    assert m.objective - m.lme4_objective == pytest.approx(r.aic - r.devres)
    one = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb)
    assert one.lme4_objective == one.objective


def test_gh_rule():
    z, w = gh_rule(7)
    assert w.sum() == pytest.approx(1) and (w * z[:, 0] ** 4).sum() == pytest.approx(3)
    z, w = gh_rule(4, 3)
    assert z.shape == (64, 3) and w.sum() == pytest.approx(1)
    assert (w * z[:, 0] ** 2 * z[:, 2] ** 2).sum() == pytest.approx(1)


@pytest.mark.parametrize('formula, data, kw, match', [
    ("TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)", 'grouseticks', dict(family='poisson'), 'single random-effects term'),
    ("Reaction ~ Days + (1 | Subject)", 'sleepstudy', dict(family='Gamma(log)'), 'not available for the Gamma'),
    ("use ~ age + (age + urban | district)", 'Contraception', dict(), 'nodes per level'),
])
def test_agq_refused_in_words(formula, data, kw, match):
    nq = 25 if 'district' in formula else 5
    with pytest.raises(MixedModelError, match=match):
        glmer(formula, load(data), nAGQ=nq, **kw)
    with pytest.raises(MixedModelError, match='whole number'):
        glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", load('cbpp'), nAGQ=2.5)


# --- Several terms on one grouping factor: (x || g) and (1 | g) + (0 + x | g), λ = diag(θ₁, θ₂) per level.

UNCORRELATED = ["cbind(s, f) ~ x + (x || g)", "cbind(s, f) ~ x + (1 | g) + (0 + x | g)"]


@pytest.mark.parametrize('formula', UNCORRELATED)
def test_uncorrelated_terms_converge_to_brute_force(formula):
    "AGQ over both terms' effects per level, against the 2-D integral with λ = [[θ₁, 0], [0, θ₂]]."
    from mixednb.glmm import level_factors
    df = simulated()
    m = GeneralizedLinearMixedModel(formula, df)
    assert len(m.design.terms) == 2 and {t.group for t in m.design.terms} == {'g'}
    P = m.problem
    theta, beta = np.array([0.9, 0.6]), np.array([-0.3, 0.7])
    r = pirls(P, theta, beta)
    assert level_factors(P, theta, r)[1] == pytest.approx(r.ldL2, rel=1e-12)   # the level blocks hold all of log|L|²
    exact = brute_2d(df, [theta[0], 0.0, theta[1]], beta)
    errs = {k: abs(agq_deviance(P, theta, r, k) - exact) for k in (1, 2, 3, 5, 9, 15)}
    assert errs[1] == pytest.approx(abs(r.laplace - exact)) and errs[1] > 0.1
    assert errs[2] < errs[1] and errs[3] < errs[2] and errs[5] < errs[3] and errs[9] < errs[5] and errs[15] < errs[9]
    assert errs[15] < 1e-6 * exact and errs[9] < 1e-4


def test_uncorrelated_fit_is_the_integral_at_its_estimates():
    "nAGQ = 15 on (x || g): its deviance is the brute-force integral at its own estimates, and the two spellings agree."
    df = simulated()
    fits = {f: glmer(f, df, nAGQ=15) for f in UNCORRELATED}
    a, b = fits.values()
    assert a.objective == pytest.approx(b.objective, rel=1e-10)
    np.testing.assert_allclose(a.theta, b.theta, rtol=1e-5)
    exact = brute_2d(df, [a.theta[0], 0.0, a.theta[1]], a.fixef.to_numpy())
    assert a.objective == pytest.approx(exact, rel=1e-8)
    lap = glmer(UNCORRELATED[0], df)
    exact_lap = brute_2d(df, [lap.theta[0], 0.0, lap.theta[1]], lap.fixef.to_numpy())
    assert exact < exact_lap                                            # AGQ's estimates are nearer the true optimum
    assert lap.objective - exact_lap > a.objective - exact              # and its deviance nearer the integral


def test_uncorrelated_fit_deviance_approaches_the_integral_as_nAGQ_grows():
    df = simulated()
    fits = [glmer(UNCORRELATED[0], df, nAGQ=k) for k in (1, 3, 5, 7, 11, 15)]
    exact = [brute_2d(df, [m.theta[0], 0.0, m.theta[1]], m.fixef.to_numpy()) for m in fits]
    gaps = [abs(m.objective - e) for m, e in zip(fits, exact)]
    assert all(a > b for a, b in zip(gaps, gaps[1:])) and gaps[0] > 0.1 and gaps[-1] < 1e-6
    assert all(b <= a + 1e-9 for a, b in zip(exact, exact[1:]))         # the estimates approach the true optimum


def test_terms_on_different_factors_still_refused():
    df = simulated().assign(h=lambda d: pd.Categorical(np.arange(len(d)) % 5))
    with pytest.raises(MixedModelError, match='several on one grouping factor'):
        glmer("cbind(s, f) ~ x + (1 | g) + (1 | h)", df, nAGQ=3)
