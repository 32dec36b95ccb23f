"""The per-evaluation gradient paths (`GradientWorkspace`, `OneTerm`) against the general `gradient` (three separate
derivations through the selected inverse) and against central differences of the criterion, on generated
vector-valued models: p = 2 to 4, one and two (and three) terms, crossed and nested, REML and ML, at random θ and at
singular θ (a zero on λ's diagonal, a whole term at zero). The expected numbers are independent computations (the
other derivation, finite differences), never pasted output."""
import numpy as np
import pandas as pd
import pytest
from mixednb.design import design
from mixednb.objective import Blocks, update_L, lambdas, objective, criterion, amalgamated
from mixednb.gradient import gradient, GradientWorkspace, OneTerm, criterion_and_gradient, dense_gradient_fits


def _data(seed, n=240):
    "Crossed factors g (12 levels) and h (8), c nested in g (3 per g), covariates x1 … x3."
    r = np.random.default_rng(seed)
    g = r.integers(0, 12, n)
    return pd.DataFrame(dict(y=r.normal(size=n) + 0.5 * g / 12, x1=r.normal(size=n), x2=r.normal(size=n),
                             x3=r.uniform(size=n), g=g.astype(str), h=r.integers(0, 8, n).astype(str),
                             c=(g * 3 + r.integers(0, 3, n)).astype(str), w=r.uniform(0.5, 2, n)))


DATA = _data(11)
FORMULAS = ["y ~ x1 + (x1 | g)",                          # p = 2, one term
            "y ~ x1 + (x1 + x2 | g)",                     # p = 3
            "y ~ x1 + (x1 + x2 + x3 | g)",                # p = 4
            "y ~ x1 + (x1 | g) + (x2 | h)",               # crossed, p = 2 and 2
            "y ~ x1 + (x1 + x2 | g) + (1 | h)",           # crossed, vector and scalar
            "y ~ x1 + (1 | g) + (x1 + x2 + x3 | h)",      # crossed, scalar first, p = 4 later
            "y ~ x2 + (x1 | g) + (x1 + x2 | c)",          # nested: c within g (sparse Z_g'Z_c)
            "y ~ x1 + (x1 | g) + (x2 | h) + (1 | c)"]     # three terms


def fd(A, th, reml, h=1e-6):
    "Central differences of the criterion."
    return np.array([(objective(A, th + h * e, reml) - objective(A, th - h * e, reml)) / (2 * h) for e in np.eye(len(th))])


def thetas(d, seed):
    "A random θ, the same with the first term's second diagonal element (or its scalar θ) at 0, and with the first term at 0."
    r = np.random.default_rng(seed)
    th = np.where(d.theta_lower == 0, r.uniform(0.2, 1.5, len(d.theta0)), r.normal(scale=0.5, size=len(d.theta0)))
    p1 = d.terms[0].p
    diag = th.copy(); diag[p1 if p1 > 1 else 0] = 0.0
    term = th.copy(); term[:d.terms[0].ntheta] = 0.0
    return [th, diag, term]


@pytest.mark.parametrize("formula", FORMULAS)
@pytest.mark.parametrize("reml", [True, False])
def test_workspace_equals_gradient_and_fd(formula, reml):
    d = design(formula, DATA)
    A = Blocks(d)
    ws = GradientWorkspace(A, reml)
    for i, th in enumerate(thetas(d, FORMULAS.index(formula))):
        L = update_L(A, th)
        new, old, num = ws(L, lambdas(A.terms, th)), gradient(A, th, reml, L=L), fd(A, th, reml)
        scale = max(1.0, np.abs(old).max())
        np.testing.assert_allclose(new, old, rtol=0, atol=1e-8 * scale, err_msg=f"θ #{i}")
        np.testing.assert_allclose(new, num, rtol=0, atol=1e-5 * scale, err_msg=f"θ #{i}")


@pytest.mark.parametrize("formula,kw", [("y ~ x1 + (x1 | g)", {}), ("y ~ x1 + (x1 + x2 + x3 | g)", {}),
                                        ("y ~ x1 + (1 | c)", {}), ("y ~ x1 + (x1 + x2 | g)", dict(weights='w'))])
@pytest.mark.parametrize("reml", [True, False])
def test_one_term_equals_update_L_and_gradient(formula, kw, reml):
    d = design(formula, DATA, **kw)
    A = Blocks(d)
    ot = OneTerm(A, reml)
    for th in thetas(d, 3):
        L = update_L(A, th)
        want_f = criterion(L, A.n, A.p, 1, reml)
        assert abs(ot.f(th) - want_f) <= 1e-11 * abs(want_f)
        old = gradient(A, th, reml, L=L)
        np.testing.assert_allclose(ot.g(th), old, rtol=0, atol=1e-8 * max(1.0, np.abs(old).max()))
        np.testing.assert_allclose(ot.g(th * 1.01), gradient(A, th * 1.01, reml), rtol=0,
                                   atol=1e-8 * max(1.0, np.abs(old).max()))   # a θ that f did not see: factored anew


def test_one_term_refuses_two_terms():
    with pytest.raises(ValueError, match='one random-effects term'):
        OneTerm(Blocks(design(FORMULAS[3], DATA)))


def test_criterion_and_gradient_paths():
    "Which path each model takes, and that f and g agree with `objective` and `gradient` through it."
    for formula in ["y ~ x1 + (x1 | g)", "y ~ x1 + (x1 | g) + (x2 | h)", "y ~ x1 + (1 | g) + (1 | h)"]:
        d = design(formula, DATA)
        A = Blocks(d)
        f, g = criterion_and_gradient(A)
        th = thetas(d, 5)[0]
        assert abs(f(th) - objective(A, th)) <= 1e-11 * abs(objective(A, th))
        old = gradient(A, th)
        np.testing.assert_allclose(g(th), old, rtol=0, atol=1e-8 * max(1.0, np.abs(old).max()))
    assert dense_gradient_fits(Blocks(design("y ~ x1 + (x1 | g) + (x2 | h)", DATA)))
    assert not dense_gradient_fits(Blocks(design("y ~ x1 + (1 | g) + (1 | h)", DATA)))   # scalar terms: traces
    assert not dense_gradient_fits(Blocks(design("y ~ x1 + (x1 | g) + (x2 | h)", DATA)), limit=100)


@pytest.mark.parametrize("weighted", [False, True])
def test_workspace_on_every_first_term_update_kind(weighted):
    """`test_block_paths`' designs with a vector-valued term, the first term's update forced dense and sparse (L_i1 then
    dense from the evaluation, or sparse and made dense here): the same gradient, equal to central differences of the
    dense formula (V = I + ZΛΛ'Z', nothing shared with the blocks)."""
    from test_block_paths import FORMULAS as BP_FORMULAS, data, force, dense_criterion, random_theta
    df = data(4)
    for f in BP_FORMULAS:
        d = design(f, df, weights='w' if weighted else None)
        if not any(t.p > 1 for t in d.terms): continue
        A0 = Blocks(d)
        if amalgamated(A0) is not A0: continue          # merged terms: routed to `gradient` (test below)
        th = random_theta(d, np.random.default_rng(9))
        w = df.w.to_numpy() if weighted else None
        h = 1e-5
        num = np.array([(dense_criterion(d, th + h * e, True, w) - dense_criterion(d, th - h * e, True, w)) / (2 * h) for e in np.eye(len(th))])
        got = {}
        for kind in ('dense', 'sparse'):
            A = Blocks(d); force(A, kind)
            L = update_L(A, th)
            assert (kind == 'dense') == bool(L.first), (f, kind)
            got[kind] = GradientWorkspace(A)(L, lambdas(A.terms, th))
        np.testing.assert_allclose(got['sparse'], got['dense'], rtol=0, atol=1e-10 * np.abs(got['dense']).max(), err_msg=f)
        np.testing.assert_allclose(got['dense'], num, rtol=0, atol=1e-5 * max(1.0, np.abs(num).max()), err_msg=f)


@pytest.mark.parametrize('form', ["y ~ x + (x || g) + (z | h)", "y ~ x + (1 | g) + (0 + x | g) + (x | h)",
                                  "y ~ x + (x | g) + (z || h)", "y ~ x + (x + z || g)"])
def test_amalgamated_terms_take_the_general_gradient(form):
    "Terms merged into one block (a vector term beside them) are routed to `gradient`, which reads merged λ: it is exact."
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame(dict(x=rng.normal(size=n), z=rng.normal(size=n), g=rng.integers(0, 20, n).astype(str),
                           h=rng.integers(0, 15, n).astype(str)))
    df['y'] = df.x + rng.normal(size=n)
    d = design(form, df); A = Blocks(d)
    assert amalgamated(A) is not A and not dense_gradient_fits(A)
    th = np.where(d.theta0 == 0, 0.3 * rng.normal(size=len(d.theta0)), np.abs(rng.normal(size=len(d.theta0))) + 0.2)
    fn, gn = criterion_and_gradient(A)
    assert abs(fn(th) - objective(A, th)) <= 1e-12 * abs(objective(A, th))
    eps = 1e-6
    fd = np.array([(objective(A, th + eps * e) - objective(A, th - eps * e)) / (2 * eps) for e in np.eye(len(th))])
    np.testing.assert_allclose(gn(th), fd, rtol=1e-5, atol=1e-5 * np.abs(fd).max())
