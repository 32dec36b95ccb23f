"""The bootstrap's replicates are the fits a fresh model gives to the simulated responses.

A replicate skips what a fresh fit of its response would do (the design, Z's blocks, the conditioning's transform
and Z's conditioned blocks, X's products) and starts its optimizer at θ̂ instead of lme4's θ₀ (`boot_start`). So
each replicate of `bootstrap` is compared with an independent fit, `LinearMixedModel(formula, data with the
response replaced).fit()`, which shares nothing with the fitted model: its parameters agree to 1e-6 relative, or, at
an optimum too flat for that (a correlation near 0, an SD at the boundary), the replicate's criterion is the
independent fit's to 1e-10 relative or lower. Models: the sleep study's vector term, Orthodont's `(age || Subject)`
and `(age | Subject)` (a fifth and a ninth of the replicates on the boundary), Penicillin's crossed terms, Pastes'
nested ones (a quarter on the boundary), and Dyestuff2, whose own fit is on the boundary (θ̂ = 0), where the
replicates start at θ₀; and the sleep study with prior weights, an offset and ML, and with a predictor far from 0
(whose conditioned blocks come from the centred rows). The counts of singular and failed replicates are the
independent fits'."""
import warnings
import numpy as np, pandas as pd, pytest
from mixednb import lmer, load, LinearMixedModel, MixedModelWarning
from mixednb.core import MixedModelError
from mixednb.predict import boot_start, _refit_one, _pars, ResponseBlocks

N, SEED = 40, 3
CASES = [('sleepstudy', 'Reaction ~ Days + (Days | Subject)', 'Reaction', {}),
         ('Orthodont', 'distance ~ age + (age || Subject)', 'distance', {}),
         ('Orthodont', 'distance ~ age + (age | Subject)', 'distance', {}),
         ('Penicillin', 'diameter ~ 1 + (1|plate) + (1|sample)', 'diameter', {}),
         ('Pastes', 'strength ~ 1 + (1|batch) + (1|cask:batch)', 'strength', {}),
         ('Dyestuff2', 'Yield ~ 1 + (1|Batch)', 'Yield', {}),
         # prior weights and an offset (y weighted and shifted in ResponseBlocks), ML
         ('sleepstudy', 'Reaction ~ Days + (Days | Subject)', 'Reaction',
          dict(weights=np.linspace(0.5, 2, 180), offset=np.full(180, 30.0), REML=False)),
         # a predictor far from 0: the conditioned blocks are made from the centred rows (Blocks(cond.design())), not from T
         ('sleepstudy', 'Reaction ~ Dfar + (Dfar | Subject)', 'Reaction', {})]

def _data(name):
    d = load(name)
    return d.assign(Dfar=d.Days + 1000.0) if name == 'sleepstudy' else d


def _with_fit(r):
    "pars, and the criterion and the check of the replicate's own fit."
    return pd.concat([r.pars, pd.Series(dict(objective=r.objective, converged=float(r.optsum['converged']),
                                             restarts=float(r.optsum['restarts'])))])


@pytest.mark.parametrize('name,formula,resp,kw', CASES, ids=[f"{c[0]}:{c[1].split('~')[1].strip()}{':' + ','.join(c[3]) if c[3] else ''}" for c in CASES])
def test_replicates_are_independent_fits(name, formula, resp, kw):
    d = _data(name)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        m = lmer(formula, d, **kw)
        B = m.bootstrap(N, seed=SEED, progress=False)
        Bo = m.bootstrap(N, seed=SEED, progress=False, fun=_with_fit)      # the same refits, with their criterion
        S = m.simulate(N, seed=SEED)
        full = [LinearMixedModel(formula, d.assign(**{resp: S.iloc[:, k].to_numpy()}), **kw).fit() for k in range(N)]
    np.testing.assert_array_equal(B.to_numpy(), Bo[B.columns].to_numpy())
    assert (Bo.converged == 1).all()                                         # every replicate's optimum was verified
    assert B.attrs['singular'] == sum(f.is_singular for f in full) and B.attrs['failed'] == 0
    bad = []
    for k, f in enumerate(full):
        a, b = B.iloc[k].to_numpy(), f.pars.to_numpy()
        same_pars = np.all(np.abs(a - b) <= 1e-6 * np.abs(b))
        lower_or_equal = Bo.objective.iloc[k] <= f.objective + 1e-10 * abs(f.objective)
        if not (same_pars or lower_or_equal): bad.append((k, a, b, Bo.objective.iloc[k], f.objective))
    assert not bad, bad
    if name in ('Orthodont', 'Pastes', 'Dyestuff2') or (name == 'sleepstudy' and not kw and 'Dfar' not in formula):
        assert B.attrs['singular'] > 0                                       # boundary replicates are among them


def test_boot_start_off_the_boundary():
    "θ̂ where it is off its bound; lme4's θ₀ where it is on it (Dyestuff2's θ̂ = 0)."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        m = lmer('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))
        s = lmer('Yield ~ 1 + (1|Batch)', load('Dyestuff2'))
    np.testing.assert_array_equal(boot_start(m), m.theta)
    assert s.theta[0] == 0 and boot_start(s)[0] == s.design.theta0[0] == 1


def test_failed_replicate_is_counted():
    "A refit that raises gives a row of NaN, failed, not singular (a constant response: no variance)."
    m = lmer('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))
    v, singular, failed = _refit_one((m, _pars, m.pars.index, boot_start(m)), np.full(m.nobs, 250.0))
    assert np.isnan(v).all() and len(v) == 6 and failed and not singular


def test_response_blocks_from_sums_raise():
    "Blocks without the rows' Z (from sums) cannot take another response."
    m = lmer('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))
    A = m.A
    class NoRows: Zs = None
    with pytest.raises(MixedModelError, match='without the rows'):
        ResponseBlocks([A, NoRows()], m.design.X)


def test_flat_false_skips_only_the_identifiability_notes():
    "fit(flat=False), which the bootstrap's default statistic uses: the same fit without flat_terms/flat_sigma's evaluations or notes."
    d = load('sleepstudy')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        a = LinearMixedModel("Reaction ~ Days + Subject + (1 | Subject)", d).fit()
        b = LinearMixedModel("Reaction ~ Days + Subject + (1 | Subject)", d).fit(flat=False)
        m = lmer("Reaction ~ Days + (Days | Subject)", d)
        y = m.simulate(1, seed=9)['sim_1']
        r1, r2 = m.refit(y, start=boot_start(m)), m.refit(y, start=boot_start(m), flat=False)
    assert any('cannot identify' in n for n in a.notes) and not any('cannot identify' in n for n in b.notes)
    np.testing.assert_array_equal(a.theta, b.theta)
    np.testing.assert_array_equal(r1.pars.to_numpy(), r2.pars.to_numpy())
    assert r2.optsum['feval'] < r1.optsum['feval'] and r2.optsum['converged']     # no flat_sigma at 2θ (and θ/2)
