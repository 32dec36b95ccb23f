"""The model object (issue 8): methods defined where nbdev and Python tooling see them, a model valid from construction
with one clear error for what needs a fit, one cache per θ, one likelihood formula, explicit block kinds, and downdate
plans that survive reweighting."""
import copy, importlib, inspect, pkgutil, warnings
import numpy as np, pandas as pd, pytest
import scipy.sparse as sp

import mixednb
from mixednb import lmer, load, LinearMixedModel, MixedModelError
from mixednb.core import NOT_FITTED
from mixednb import objective as O
from mixednb.design import design

MODULES = [importlib.import_module(f"mixednb.{m.name}") for m in pkgutil.iter_modules(mixednb.__path__) if not m.name.startswith('_')]
FORMULA = "Reaction ~ Days + (Days | Subject)"


@pytest.fixture(scope='module')
def sleep():
    return lmer(FORMULA, load('sleepstudy'))


@pytest.fixture
def unfitted():
    return LinearMixedModel(FORMULA, load('sleepstudy'))


# --- where the methods are defined ------------------------------------------------------------------------------

def test_nbdev_index_lists_model_methods():
    from mixednb._modidx import d
    syms = {k.rsplit('.', 1)[-1] if False else k for mod in d['syms'].values() for k in mod}
    for name in ['fit', 'nobs', 'aic', 'bic', 'deviance', 'sigma', 'fixef', 'summary', 'predict', 'confint', 'profile',
                 'anova', 'refit', 'bootstrap', 'check_convergence', 'explain_singular', 'plot_Z', 'plot_shrinkage',
                 'explore_theta', 'coef_table', 'anova_type3', 'is_fitted']:
        assert any(s.endswith(f"LinearMixedModel.{name}") for s in syms), name


def test_qualnames_and_docs():
    for name, attr in vars(LinearMixedModel).items():
        if name.startswith('__') or name.startswith('_orig_'): continue
        f = attr.fget if isinstance(attr, property) else attr
        if not callable(f): continue
        assert f.__qualname__ == f"LinearMixedModel.{name}", (name, f.__qualname__)
        if not name.startswith('_'): assert f.__doc__ and len(f.__doc__) > 10, name


def test_no_property_objects_or_none_in_all():
    for mod in MODULES:
        for name in getattr(mod, '__all__', []):
            v = getattr(mod, name)
            assert v is not None and not isinstance(v, property), f"{mod.__name__}.{name} is {v!r}"


def test_no_module_assigns_methods_to_the_class():
    "Methods come from the class body or @patch, never `LinearMixedModel.x = ...`."
    for mod in MODULES:
        src = inspect.getsource(mod)
        assert 'LinearMixedModel.' not in ''.join(l.split('=')[0] for l in src.splitlines() if '=' in l and not l.lstrip().startswith(('#', '"'))
                                                  and l.split('=')[0].strip().startswith('LinearMixedModel.')), mod.__name__


def test_help_shows_the_signature():
    assert list(inspect.signature(LinearMixedModel.fit).parameters)[:3] == ['self', 'optimizer', 'blas_threads']
    assert 'Parameters' in LinearMixedModel.fit.__doc__ and 'Returns' in mixednb.lmer.__doc__


# --- valid from birth ------------------------------------------------------------------------------------------------

NEEDS_FIT_PROPS = ['sigma', 'loglik', 'aic', 'bic', 'deviance', 'is_singular', 'fixef', 'vcov', 'varcorr', 'pars']
NEEDS_FIT_CALLS = {'singular_terms': (), 'condvar': (), 'ranef': (), 'coef': (), 'fitted': (), 'residuals': (),
                   'summary': (), 'predict': (), 'simulate': (), 'refit': (np.arange(180.0),), 'bootstrap': (2,),
                   'confint': (), 'profile': (), 'coef_table': (), 'anova_type3': (), 'check_convergence': (),
                   'explain_singular': (), 'at_theta': ([1., 0., 1.],), 'plot_L_blocks': (), 'explore_theta': (),
                   'emmeans': ('Days',), 'predict_interval': (), 'resim': (), 'plot_resim': (), 'display': (),
                   'save': ('unfitted.json',), 'allfit': (), 'rePCA': ()}


@pytest.mark.parametrize('name', NEEDS_FIT_PROPS)
def test_unfitted_property_raises_the_one_error(unfitted, name):
    with pytest.raises(MixedModelError, match=f"LinearMixedModel.{name}: {NOT_FITTED}"):
        getattr(unfitted, name)


@pytest.mark.parametrize('name', sorted(NEEDS_FIT_CALLS))
def test_unfitted_method_raises_the_one_error(unfitted, name):
    with pytest.raises(MixedModelError, match=NOT_FITTED.replace('(', r'\(').replace(')', r'\)').replace('.', r'\.')):
        getattr(unfitted, name)(*NEEDS_FIT_CALLS[name])


def test_unfitted_model_is_usable_where_no_fit_is_needed(unfitted):
    assert not unfitted.is_fitted and unfitted.optsum is None
    assert (unfitted.nobs, unfitted.npar, unfitted.ngroups) == (180, 6, {'Subject': 18})
    np.testing.assert_array_equal(unfitted.theta, unfitted.design.theta0)
    assert unfitted.L is not None and unfitted.objective == unfitted.objective_at(unfitted.design.theta0)
    assert unfitted._repr_html_() is None and 'unfitted' in repr(unfitted) and str(unfitted) == repr(unfitted)
    unfitted.plot_Z(); unfitted.plot_Lambda()                                   # the structure can be drawn
    with pytest.raises(MixedModelError, match='not fitted'): mixednb.anova(unfitted, unfitted)
    assert unfitted.fit() is unfitted and unfitted.is_fitted


def test_repr_is_short_and_str_is_the_summary(sleep):
    assert repr(sleep) == "LinearMixedModel('Reaction ~ Days + (Days | Subject)', 180 obs, groups: Subject 18; REML criterion 1743.63)"
    assert str(sleep) == str(sleep.summary())


def test_one_cache_per_theta(sleep):
    cv, S = sleep.condvar(), mixednb.satterthwaite.satterthwaite(sleep)
    assert sleep.condvar() is cv and mixednb.satterthwaite.satterthwaite(sleep) is S
    other = sleep.at_theta(sleep.theta * 0.9)
    assert other._cache == {} and sleep.condvar() is cv                       # the copy has its own, the original keeps its
    assert not np.allclose(other.condvar()[0], cv[0])
    m = copy.copy(sleep); m._set_theta(sleep.theta)
    assert m._cache == {} and m.condvar() is not cv


def test_unfitted_copy_is_factored_at_theta0(sleep):
    u = sleep._unfitted_copy(REML=False)
    assert not u.is_fitted and u.REML is False and sleep.REML is True
    np.testing.assert_array_equal(u.theta, sleep.design.theta0)
    assert u.objective == pytest.approx(u.objective_at(sleep.design.theta0), rel=1e-15)
    assert sleep.is_fitted and sleep.objective == pytest.approx(1743.6282719599, rel=1e-10)


def test_data_never_modified():
    df = load('sleepstudy'); before = df.copy(deep=True)
    LinearMixedModel(FORMULA, df).fit().refit(np.asarray(df.Reaction) + 1.0)
    pd.testing.assert_frame_equal(df, before)


# --- one likelihood formula ------------------------------------------------------------------------------------------

def test_every_deviance_goes_through_one_formula(sleep, monkeypatch):
    "criterion, Satterthwaite's deviance_vp and the profile's ml_deviance all call objective.deviance."
    calls = []
    real = O.deviance
    def spy(*a, **k): calls.append(k.get('sigma')); return real(*a, **k)
    for mod in (O, mixednb.satterthwaite, mixednb.confint): monkeypatch.setattr(mod, 'deviance', spy)
    th = sleep.theta
    O.criterion(O.update_L(sleep.A, th), sleep.A.n, sleep.A.p, 1, True)
    d_vp = mixednb.satterthwaite.deviance_vp(sleep, np.r_[th, sleep.sigma])
    d_ml = mixednb.confint.ml_deviance(sleep.A, th, 25.0)
    assert len(calls) == 3 and calls[0] is None and calls[1] == sleep.sigma and calls[2] == 25.0
    assert d_vp == pytest.approx(sleep.objective, rel=1e-12)                  # at σ̂ the two forms agree


def test_deviance_with_prior_weights_term():
    "ldW enters as lme4's −Σ log w; σ given or profiled agree at σ̂."
    args = (12.5, 3.25, 410.0, 90, 4)
    assert O.deviance(*args, ldW=2.0) == pytest.approx(O.deviance(*args) - 2.0)
    assert O.deviance(*args, reml=False, sigma=np.sqrt(410.0 / 90)) == pytest.approx(O.deviance(*args, reml=False))


# --- block kinds -----------------------------------------------------------------------------------------------------

def test_factor_blocks_have_explicit_kinds():
    m = lmer("diameter ~ 1 + (1|plate) + (1|sample)", load('Penicillin'))
    kinds = {k: O.block_kind(B) for k, B in m.L.items()}
    assert kinds[0, 0] == 'block-diagonal' and kinds[1, 0] == 'sparse' and kinds[1, 1] == 'dense' and kinds['X', 'X'] == 'dense'


def test_a_new_block_kind_is_local():
    """A new kind is a class plus its registrations in one place: here a dense factor kept as its transpose U = L'.
    Everything that reads L (logdet, u_hat, cond_cov_u) gives the same numbers with it, unchanged."""
    class Upper:
        "A lower-triangular factor block L stored as U = L'."
        def __init__(self, U): self.U = U
        @property
        def shape(self): return self.U.shape
    O.block_kind.register(Upper, lambda B: 'upper')
    O.dense.register(Upper, lambda B: B.U.T)
    O.diag_of.register(Upper, lambda L: np.diag(L.U))
    O.solve_Lt.register(Upper, lambda L, r: np.linalg.solve(L.U, r))
    O.solve_L.register(Upper, lambda L, M: np.linalg.solve(L.U.T, M))
    O.inv_L.register(Upper, lambda L: np.linalg.inv(L.U.T))
    O.level_crossprod.register(Upper, lambda D, t: O.level_crossprod(O.dense(D), t))
    O.operand.register(Upper, lambda B: B.U.T)
    d = design("diameter ~ 1 + (1|plate) + (1|sample)", load('Penicillin'))
    L = O.update_L(O.Blocks(d), np.array([1.5, 3.5]))
    L2 = dict(L); L2[1, 1] = Upper(L[1, 1].T.copy())
    assert O.block_kind(L2[1, 1]) == 'upper'
    assert O.logdet(L2, 2) == pytest.approx(O.logdet(L, 2), rel=1e-14)
    for u, u2 in zip(O.u_hat(L, 2), O.u_hat(L2, 2)): np.testing.assert_allclose(u2, u, rtol=1e-12)
    for c, c2 in zip(O.cond_cov_u(L, 2, d.terms), O.cond_cov_u(L2, 2, d.terms)): np.testing.assert_allclose(c2, c, rtol=1e-12)


# --- downdate plans: structure only ----------------------------------------------------------------------------------

def test_plan_survives_reweighting():
    "Scaling the rows of Z by weights changes Z'Z's values, not its pattern: the old plan with the new values is exact."
    df = load('sleepstudy')
    d = design("Reaction ~ Days + (Days | Subject) + (1 | Days)", df)
    A = O.Blocks(d)
    plan = A.plans[1, 1]
    w = np.random.default_rng(4).uniform(0.2, 3.0, d.n)
    Zw = [sp.diags(np.sqrt(w)) @ Z for Z in A.Zs]
    A21w = (Zw[1].T @ Zw[0]).tocsr()
    W = np.random.default_rng(5).normal(size=(18, 2, 2)); W = W @ W.transpose(0, 2, 1)
    P = np.zeros((10, 10)); P.flat[plan.flat] = plan.K(A21w, A21w) @ W.ravel()
    full = (A21w @ sp.block_diag(list(W)) @ A21w.T).toarray()
    np.testing.assert_allclose(P, np.tril(full) if plan.shape[0] < 100 and (P == np.tril(P)).all() else full, rtol=1e-10, atol=1e-9)
    fresh = O.DowndatePlan(A21w, A21w, 2, lower=True)
    np.testing.assert_array_equal(fresh.flat, plan.flat)
    assert not any(isinstance(v, np.ndarray) and v.dtype == float for v in vars(plan).values())   # no values kept


def test_refit_shares_plans_and_downdates():
    m = lmer("Reaction ~ Days + (Days | Subject) + (1 | Days)", load('sleepstudy'))
    assert len(m.A.plans) == 1
    r = m.refit(m.design.y + np.random.default_rng(0).normal(size=180))
    assert r.A.plans is m.A.plans and r.A.downdates is m.A.downdates
