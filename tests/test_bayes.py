"""The Bayesian twin (mixednb.bayes): the PyMC model's log-density against an independent computation with scipy and
the design's own sparse Z, the posterior against lmer on a simulated problem (fixed seeds), and clear errors for what is
not supported. Needs the `bayes` extra (PyMC), which README's test command installs."""
import subprocess, sys, warnings
import numpy as np, pandas as pd
import pytest
from scipy import stats
from scipy.special import betaln

from mixednb import lmer, glmer, load, MixedModelError
from mixednb.bayes import Normal, Exponential, HalfNormal, LKJ, default_priors


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return f(*a, **k)


@pytest.fixture(scope='module')
def sleep():
    return load('sleepstudy')


def test_import_mixednb_does_not_import_pymc():
    code = "import sys, mixednb; m = mixednb.LinearMixedModel; assert hasattr(m, 'to_pymc'); assert 'pymc' not in sys.modules"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_missing_pymc_says_how_to_install(sleep, monkeypatch):
    m = quiet(lmer, "Reaction ~ Days + (1 | Subject)", sleep)
    monkeypatch.setitem(sys.modules, 'pymc', None)
    with pytest.raises(ImportError, match=r"pip install 'mixednb\[bayes\]'"):
        m.to_pymc()


def test_default_priors_scale_with_the_data(sleep):
    w = np.linspace(0.5, 2, len(sleep))
    off = np.arange(len(sleep)) % 7.0
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sleep, weights=w, offset=off)
    pr = default_priors(m)
    r = sleep.Reaction.to_numpy() - off
    sy, sx = np.std(r), np.std(sleep.Days)
    assert pr['(Intercept)'] == Normal(pytest.approx(r.mean()), pytest.approx(2.5 * sy))
    assert pr['Days'] == Normal(0.0, pytest.approx(2.5 * sy / sx))
    assert pr['sigma'] == Exponential(pytest.approx(1 / sy))
    assert pr['sd_(Intercept)|Subject'] == Exponential(pytest.approx(1 / sy))
    assert pr['sd_Days|Subject'] == Exponential(pytest.approx(sx / sy))
    assert pr['cor|Subject'] == LKJ(2.0)
    # for a || term, two scalar terms with lme4's group names, and no correlation
    m2 = quiet(lmer, "Reaction ~ Days + (Days || Subject)", sleep)
    assert {k for k in default_priors(m2) if k.startswith(('sd', 'cor'))} == {'sd_(Intercept)|Subject', 'sd_Days|Subject.1'}


# ---- the log-density, computed independently ------------------------------------------------------------------

def _packed(model, name, L):
    "The value of an LKJCholeskyCov variable (PyMC's transformed space) for the Cholesky factor L."
    import pytensor.tensor as pt
    rv = model[name]
    return model.rvs_to_transforms[rv].forward(pt.as_tensor(L[np.tril_indices(len(L))]), *rv.owner.inputs).eval()

def _scale_logpdf(prior, s):
    if isinstance(prior, Exponential): return stats.expon.logpdf(s, scale=1 / prior.lam)
    return stats.halfnorm.logpdf(s, scale=prior.sigma)

def _by_hand(m, priors, beta, sigma, terms):
    """log p(β, σ, each term's sds, ρ, z, y) with scipy: `terms` per term (group name, sds, rho or None, z).
    β is the sampled fixed-effects vector (here the intercept's prior is given, so no centring)."""
    d, pr = m.design, {**default_priors(m), **priors}
    lp = sum(stats.norm.logpdf(b, pr[c].mu, pr[c].sigma) for b, c in zip(beta, d.xnames))
    lp += _scale_logpdf(pr['sigma'], sigma)
    bs = []
    for t, (g, s, rho, z) in zip(d.terms, terms):
        lp += sum(_scale_logpdf(pr[f"sd_{c}|{g}"], s_) for c, s_ in zip(t.cnames, s)) + stats.norm.logpdf(z).sum()
        if t.p == 1: L = np.array([[s[0]]])
        else:                                              # LKJ(η) for p = 2: (ρ + 1)/2 ~ Beta(η, η); Jacobian (s₁, s₂, ρ) → L
            eta = pr[f"cor|{g}"].eta
            lp += stats.beta.logpdf((rho + 1) / 2, eta, eta) - np.log(2) + np.log(np.sqrt(1 - rho ** 2) / s[1])
            L = np.array([[s[0], 0], [s[1] * rho, s[1] * np.sqrt(1 - rho ** 2)]])
        bs.append((z @ L.T).ravel())                       # level by level, as Z's columns
    mu = d.X @ beta + d.Z @ np.concatenate(bs) + (0 if d.offset is None else d.offset)
    sd = sigma / np.sqrt(1 if d.w is None else d.w)
    return lp + stats.norm.logpdf(d.y, mu, sd).sum()

def _pymc_logp(m, model, f, beta, sigma, terms):
    "PyMC's log-density f (without the Jacobians of its transforms) at the same point."
    pt = {'beta': beta, 'sigma_log__': np.log(sigma)}
    for t, (g, s, rho, z) in zip(m.design.terms, terms):
        pt[f"z|{g}"] = z
        if t.p == 1: pt[f"sd|{g}_log__"] = np.log(np.atleast_1d(s))
        else:
            L = np.array([[s[0], 0], [s[1] * rho, s[1] * np.sqrt(1 - rho ** 2)]])
            pt[f"chol|{g}_cholesky-cov-packed__"] = _packed(model, f"chol|{g}", L)
    assert set(pt) == {v.name for v in model.value_vars}, (set(pt), model.value_vars)
    return float(f(pt))

def _point(m, rng):
    "A random point away from the fit: β, σ, and per term (group name, sds, ρ, z)."
    from mixednb.fit import _group_names
    d, out = m.design, []
    for t, g in zip(d.terms, _group_names(d.terms)):
        s = rng.uniform(0.3, 3, size=t.p) * np.std(d.y) / 10
        out.append((g, s, rng.uniform(-0.8, 0.8) if t.p == 2 else None, rng.normal(size=(t.nlev, t.p))))
    return rng.normal([250, 10], 5), rng.uniform(15, 40), out


@pytest.mark.parametrize('formula, extra', [
    ("Reaction ~ Days + (Days | Subject)", {}),
    ("Reaction ~ Days + (Days | Subject)", {'weights': 'w', 'offset': 'off'}),
    ("Reaction ~ Days + (Days || Subject)", {}),
])
def test_logp_equals_independent_computation(sleep, formula, extra):
    data = sleep.assign(w=np.linspace(0.5, 2, len(sleep)), off=(np.arange(len(sleep)) % 5) * 3.0)
    m = quiet(lmer, formula, data, **extra)
    priors = {'(Intercept)': Normal(240, 30), 'Days': Normal(5, 8), 'sigma': HalfNormal(40)}
    if m.design.terms[0].p == 2: priors['cor|Subject'] = LKJ(3.0)
    else: priors['sd_Days|Subject.1'] = HalfNormal(12)
    model = m.to_pymc(priors=priors)
    rng = np.random.default_rng(7)
    pts = [_point(m, rng) for _ in range(3)]
    ours = np.array([_by_hand(m, priors, *p) for p in pts])
    f = model.compile_logp(jacobian=False)
    theirs = np.array([_pymc_logp(m, model, f, *p) for p in pts])
    np.testing.assert_allclose(theirs - theirs[0], ours - ours[0], rtol=0, atol=1e-7)       # constants cancel
    # the level: equal, but for PyMC's LKJ normalising constant, which it adds with the wrong sign (a constant: no
    # posterior, sampler or ADVI fit depends on it). For p = 2, LKJ(η)'s density of ρ is c·(1 − ρ²)^(η−1),
    # c = 1 / (2^(2η−1) B(η, η)).
    off = 0.0
    if m.design.terms[0].p == 2:
        log_c = -(2 * 3.0 - 1) * np.log(2) - betaln(3.0, 3.0)
        off = -2 * log_c
    np.testing.assert_allclose(theirs - ours, off, atol=1e-7)


def test_centred_intercept_reports_beta_on_the_data_scale(sleep):
    "With the default intercept prior the sampled β_c has the intercept at the mean of Days; β is mapped back."
    m = quiet(lmer, "Reaction ~ Days + (1 | Subject)", sleep)
    model = m.to_pymc()
    bc = np.array([300.0, 10.0])
    np.testing.assert_allclose(model['beta'].eval({model['beta_c']: bc}), [300 - 10 * sleep.Days.mean(), 10.0])


# ---- the posterior against lmer -------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def simulated():
    "40 groups × 12 rows, (1 + x | g), a clear signal: the posterior and lmer should agree closely."
    rng = np.random.default_rng(2024)
    ng, k = 40, 12
    g = np.repeat(np.arange(ng), k)
    x = rng.uniform(-1, 1, ng * k)
    b = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.5]], size=ng)
    y = 2.0 + 1.5 * x + b[g, 0] + b[g, 1] * x + rng.normal(0, 0.6, ng * k)
    data = pd.DataFrame({'y': y, 'x': x, 'g': pd.Categorical([f"g{i:02d}" for i in g])})
    m = quiet(lmer, "y ~ x + (1 + x | g)", data)
    post = quiet(m.sample_pymc, draws=500, tune=500, chains=2, seed=11)
    return m, post


def test_posterior_agrees_with_lmer(simulated):
    m, post = simulated
    fx = m.compare_fixef(post)
    assert ((fx['posterior mean'] - fx.lmer).abs() < 0.3 * fx['posterior sd']).all(), fx
    assert (fx['posterior sd'] / fx.SE).between(0.85, 1.3).all(), fx
    pars = m.compare_pars(post)
    assert list(pars.index) == list(m.pars.index)
    assert abs(pars.loc['sigma', 'posterior mean'] / m.sigma - 1) < 0.05
    assert (pars['posterior 2.5 %'] < pars.lmer).all() and (pars.lmer < pars['posterior 97.5 %']).all(), pars
    re = m.compare_ranef(post)
    assert len(re) == 80 and set(re.grpvar) == {'g'}
    np.testing.assert_allclose(re.condval, m.ranef(long=True).condval)
    assert (re.z.abs() < 0.5).all(), re.loc[re.z.abs().idxmax()]
    # the posterior sd also carries the uncertainty of β and θ, which lmer's conditional sd takes as known: larger
    assert (re['posterior sd'] / re.condsd).between(0.95, 1.6).all()


def test_advi_agrees_with_lmer(simulated):
    m, _ = simulated
    vi = quiet(m.fit_advi, n=4000, draws=400, learning_rate=0.05, seed=3)
    fx = m.compare_fixef(vi)
    assert ((fx['posterior mean'] - fx.lmer).abs() < fx.SE).all(), fx            # an approximation: within a standard error
    re = m.compare_ranef(vi)
    assert np.corrcoef(re['posterior mean'], re.condval)[0, 1] > 0.99
    assert len(vi.posterior.attrs['loss']) == 4000
    again = quiet(m.fit_advi, n=4000, draws=400, learning_rate=0.05, seed=3)           # a seed repeats the fit
    np.testing.assert_array_equal(vi.posterior['beta'].values, again.posterior['beta'].values)


def test_minibatch_model_scales_the_likelihood(simulated):
    m, _ = simulated
    full, mb = m.to_pymc(), m.to_pymc(batch_size=48)
    assert [v.name for v in full.free_RVs] == [v.name for v in mb.free_RVs]
    ip = full.initial_point()
    # a minibatch of 48 of the 480 rows, scaled by 480/48: on average the full likelihood
    f = mb.compile_logp(vars=[mb['y']])
    vals = [float(f(ip)) for _ in range(200)]
    full_y = float(full.compile_logp(vars=[full['y']])(ip))
    assert abs(np.mean(vals) / full_y - 1) < 0.05


# ---- what is not supported says so ----------------------------------------------------------------------------

def test_errors(sleep):
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sleep)
    with pytest.raises(MixedModelError, match="'Slope' is not a parameter of this model; its parameters are"):
        m.to_pymc(priors={'Slope': Normal(0, 1)})
    with pytest.raises(MixedModelError, match="'sigma' is a standard deviation: its prior must be Exponential or HalfNormal"):
        m.to_pymc(priors={'sigma': Normal(0, 1)})
    with pytest.raises(MixedModelError, match="'Days' is a fixed effect: its prior must be Normal"):
        m.to_pymc(priors={'Days': Exponential(1)})
    with pytest.raises(MixedModelError, match="must be LKJ"):
        m.to_pymc(priors={'cor|Subject': HalfNormal(1)})
    with pytest.raises(MixedModelError, match="different families"):
        m.to_pymc(priors={'sd_Days|Subject': HalfNormal(10)})
    with pytest.raises(MixedModelError, match="priors= must be a dict"):
        m.to_pymc(priors=[Normal(0, 1)])
    with pytest.raises(MixedModelError, match="batch_size must be a whole number of rows from 1 to 179"):
        m.to_pymc(batch_size=180)
    with pytest.raises(MixedModelError, match="batch_size must be a whole number"):
        m.to_pymc(batch_size=2.5)
    g = quiet(glmer, "cbind(incidence, size - incidence) ~ period + (1 | herd)", load('cbpp'), family='binomial')
    with pytest.raises(MixedModelError, match="linear mixed models \\(lmer\\) only.*binomial"):
        g.to_pymc()
