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
    merged = Blocks(design("y ~ x1 + (x1 || g) + (1 | h)", DATA))          # (1|g) + (0+x1|g): one block of p = 2
    assert dense_gradient_fits(merged) and not dense_gradient_fits(merged, limit=100)


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


AMALGAMATED = ["y ~ x + (x || g)",                          # one grouping factor: `OneTerm` on the merged term
               "y ~ x + (x + z || g)",
               "y ~ x + (1 | g) + (0 + x | g)",
               "y ~ x + (1 + z | g) + (0 + x | g)",            # a vector and a scalar piece
               "y ~ x + (1 | g) + (0 + x | g) + (x | h)",      # a merged term beside others: `GradientWorkspace`
               "y ~ x + (x || g) + (1 | h)",
               "y ~ x + (x || g) + (z | h)",
               "y ~ x + (x | g) + (z || h)",                   # the merged term later
               "y ~ x + (x || g) + (z || h)"]                  # two merged terms


def _amalg_data(seed=7, n=400):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(dict(x=rng.normal(size=n), z=rng.normal(size=n), g=rng.integers(0, 20, n).astype(str),
                           h=rng.integers(0, 15, n).astype(str), w=rng.uniform(0.5, 2, n)))
    df['y'] = df.x + rng.normal(size=20)[df.g.astype(int)] * (1 + 0.5 * df.x) + rng.normal(size=n)
    return df


@pytest.mark.parametrize('form', AMALGAMATED)
@pytest.mark.parametrize('reml', [True, False])
@pytest.mark.parametrize('weighted', [False, True])
def test_amalgamated_terms_take_the_fast_gradient(form, reml, weighted, monkeypatch):
    """Terms merged into one block (block-diagonal λ) take `OneTerm` (one grouping factor) or `GradientWorkspace`,
    never the general `gradient` (patched to fail here: the routing test), and their gradient equals the general
    `gradient` of the terms one by one (`amalgamate = False`: separate blocks, another derivation) to 1e-8 and central
    differences of the criterion to 1e-5, at a random θ and with a θ at zero; their criterion is `objective`'s."""
    import mixednb.gradient as G
    df = _amalg_data()
    d = design(form, df, weights='w' if weighted else None)
    A, S = Blocks(d), Blocks(d)
    S.amalgamate = False
    E = amalgamated(A)
    assert E is not A and dense_gradient_fits(A)
    one = len(E.terms) == 1
    rng = np.random.default_rng(len(form))
    th = np.where(d.theta_lower == 0, rng.uniform(0.3, 1.5, len(d.theta0)), 0.3 * rng.normal(size=len(d.theta0)))
    th0 = th.copy(); th0[d.terms[-1].ntheta - 1 if d.terms[-1].p == 1 else 0] = 0.0     # a zero on λ's diagonal
    want = {tuple(t): gradient(S, t, reml) for t in (th, th0)}                 # before the general path is patched away
    fn, gn = criterion_and_gradient(A, reml)
    assert isinstance(fn.__self__, OneTerm) if one else not hasattr(fn, '__self__')
    monkeypatch.setattr(G, 'gradient', lambda *a, **k: pytest.fail("the general gradient was called"))
    for t in (th, th0):
        crit = objective(A, t, reml)
        assert abs(fn(t) - crit) <= 1e-11 * abs(crit)
        got, old = gn(t), want[tuple(t)]
        num = fd(A, t, reml)
        scale = max(1.0, np.abs(old).max())
        np.testing.assert_allclose(got, old, rtol=0, atol=1e-8 * scale, err_msg=form)
        np.testing.assert_allclose(got, num, rtol=0, atol=1e-5 * scale, err_msg=form)
        L = update_L(A, t)
        ws = GradientWorkspace(A, reml)                  # the model's λ or L's (merged) λ: the same gradient
        np.testing.assert_allclose(ws(L, lambdas(A.terms, t)), old, rtol=0, atol=1e-8 * scale)
        np.testing.assert_array_equal(ws(L, lambdas(A.terms, t)), ws(L, lambdas(L.terms, t)))


def test_one_term_reads_a_merged_lambda():
    "`OneTerm` on `(x + z || g)`: λ diagonal 3×3 from three θ, and its criterion that of the dense formula at that λ."
    from test_block_paths import dense_criterion
    df = _amalg_data()
    d = design("y ~ x + (x + z || g)", df)
    ot, th = OneTerm(Blocks(d)), np.array([0.8, 0.4, 1.3])
    assert abs(ot.f(th) - dense_criterion(d, th)) <= 1e-10 * abs(dense_criterion(d, th))
    np.testing.assert_array_equal(ot.lam, np.diag(th))
    with pytest.raises(ValueError, match='one random-effects term'):
        OneTerm(Blocks(design("y ~ x + (x || g) + (1 | h)", df)))
