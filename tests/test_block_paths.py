"""Every way the factor's first-term update can be made (dense BLAS product, sparse product) gives the criterion of the
dense formula, log|V| + log|X'V⁻¹X| + (n − p)(1 + log(2π r'V⁻¹r/(n − p))) with V = I + ZΛΛ'Z' (REML; the deviance
likewise), to 1e-10 relative, and the same gradient either way, on generated crossed, nested, vector, `||` and weighted
designs; the gradient agrees with central differences of the dense formula."""
import numpy as np, pandas as pd, pytest
from mixednb.design import design
from mixednb import objective as O
from mixednb.gradient import gradient, criterion_and_gradient


def data(seed, n=240):
    r = np.random.default_rng(seed)
    a, b, c = r.integers(0, 30, n), r.integers(0, 12, n), r.integers(0, 5, n)
    x, z = r.normal(size=n), r.uniform(-1, 1, n)
    y = 1 + x + r.normal(size=30)[a] * (1 + 0.5 * x) + r.normal(size=12)[b] + 0.5 * r.normal(size=5)[c] + r.normal(size=n)
    return pd.DataFrame(dict(y=y, x=x, z=z, a=[f"a{k}" for k in a], b=[f"b{k}" for k in b], c=[f"c{k}" for k in c],
                             w=r.uniform(0.5, 2.0, n)))

FORMULAS = [
    "y ~ x + (1|a) + (1|b) + (1|c)",                      # crossed scalar terms: sparse and dense patterns
    "y ~ x + (1|b/a)",                                    # nested: (1|b) + (1|b:a)
    "y ~ x + (1 + x|a) + (1 + x|b)",                      # crossed vector terms
    "y ~ x + (x||a) + (1|b)",                             # `||`: (1|a) + (0 + x|a) + (1|b)
    "y ~ x + (1 + x|a) + (1|b) + (0 + z|b) + (1|c)",     # mixed sizes, a second term on b
    "y ~ x + (0 + x|b) + (1 + z + x|a)",                 # the first term a vector one, later scalar
    "y ~ x + (1|a) + (1 + x|b)",                          # the first term scalar, a later vector one
]


def force(A, kind):
    """Make every first-term product of A dense (BLAS), sparse, or by pairs of entries (scalar terms), whatever the fill:
    the products of the blocks the factor is made from (terms on one grouping factor amalgamated)."""
    A = O.amalgamated(A)
    for P in A.plans.values(): P.left.dense = P.right.dense = kind == 'dense'
    for (i, j), P in A.plans.items():
        P.dense = kind == 'dense'
        scalar = A.terms[0].p == A.terms[i].p == A.terms[j].p == 1
        P.pairs = O.PairPlan(A.off[i, 0], A.off[j, 0], lower=i == j) if kind == 'pairs' and scalar else None
    A._zcache.clear()


def dense_criterion(d, theta, reml=True, w=None):
    "The profiled criterion from V = I + ZΛΛ'Z' (scaled by the prior weights), dense, nothing shared with the blocks."
    Z, Lam = d.Z.toarray(), d.Lambda(theta).toarray()
    X, y = d.X, d.y
    if w is not None: s = np.sqrt(w); Z, X, y = Z * s[:, None], X * s[:, None], y * s
    n, p = X.shape
    V = np.eye(n) + Z @ Lam @ Lam.T @ Z.T
    Vi = np.linalg.inv(V)
    XVX = X.T @ Vi @ X
    beta = np.linalg.solve(XVX, X.T @ Vi @ y)
    r = y - X @ beta
    pwrss = r @ Vi @ r
    nu = n - p if reml else n
    ldW = 0.0 if w is None else np.log(w).sum()
    return np.linalg.slogdet(V)[1] + (np.linalg.slogdet(XVX)[1] if reml else 0.0) + nu * (1 + np.log(2 * np.pi * pwrss / nu)) - ldW


def random_theta(d, r):
    th = r.uniform(0.3, 1.5, len(d.theta0))
    off = d.theta_lower == -np.inf
    th[off] = r.normal(scale=0.4, size=off.sum())
    return th


@pytest.mark.parametrize('f', FORMULAS)
@pytest.mark.parametrize('seed', [0, 1])
@pytest.mark.parametrize('weighted', [False, True])
def test_each_path_gives_the_dense_criterion_and_one_gradient(f, seed, weighted):
    df = data(seed)
    d = design(f, df, weights='w' if weighted else None)
    r = np.random.default_rng(seed + 10)
    for reml in (True, False):
        th = random_theta(d, r)
        want = dense_criterion(d, th, reml, df.w.to_numpy() if weighted else None)
        got, grads = {}, {}
        for kind in ('dense', 'sparse', 'pairs'):
            A = O.Blocks(d); force(A, kind)
            got[kind] = O.objective(A, th, reml)
            grads[kind] = gradient(A, th, reml)
            assert got[kind] == pytest.approx(want, rel=1e-10), (kind, f)
        for kind in ('sparse', 'pairs'):
            np.testing.assert_allclose(grads[kind], grads['dense'], rtol=1e-10, atol=1e-10 * np.abs(grads['dense']).max())


@pytest.mark.parametrize('f', FORMULAS)
def test_gradient_matches_central_differences_of_the_dense_formula(f):
    df = data(5)
    d = design(f, df)
    th = random_theta(d, np.random.default_rng(7))
    g = gradient(O.Blocks(d), th)
    h = 1e-5
    fd = np.array([(dense_criterion(d, th + h * e) - dense_criterion(d, th - h * e)) / (2 * h) for e in np.eye(len(th))])
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * max(1, np.abs(fd).max()))


def test_patterns_choose_their_path_by_fill():
    "100 × 20 crossed levels on 300 rows fill 15% of the cells (sparse); 3 levels against 100 fill most (dense)."
    r = np.random.default_rng(0)
    df = pd.DataFrame(dict(y=r.normal(size=300), a=r.integers(0, 100, 300).astype(str), b=r.integers(0, 20, 300).astype(str),
                           c=r.integers(0, 3, 300).astype(str)))
    d = design("y ~ 1 + (1|a) + (1|b) + (1|c)", df)
    A = O.Blocks(d)
    assert [t.group for t in d.terms] == ['a', 'b', 'c']
    assert not A.plans[1, 1].dense and A.plans[2, 2].dense and not A.plans[2, 1].dense
    assert A.plans[1, 1].pairs is not None and A.plans[2, 2].pairs is None     # few pairs: listed; dense: BLAS
    th = np.array([0.8, 1.3, 0.6])
    assert O.objective(A, th) == pytest.approx(dense_criterion(d, th), rel=1e-10)


def test_gradient_reuses_the_products_of_its_evaluation():
    "f keeps the first-term products of its θ (Factor.products) and g at that θ gives what a fresh gradient gives."
    d = design(FORMULAS[0], data(3))
    A = O.Blocks(d)
    f, g = criterion_and_gradient(A)
    th = random_theta(d, np.random.default_rng(1))
    f(th)
    np.testing.assert_allclose(g(th), gradient(O.Blocks(d), th), rtol=1e-12)
    assert O.update_L(A, th).products is None and len(O.update_L(A, th, keep_products=True).products) == 3


def test_the_update_stays_small_on_a_dense_crossed_design():
    "kb07-like: 56 subjects × 32 items, every pair seen, 4 columns each: the plan stores the blocks, not their pairs."
    r = np.random.default_rng(0)
    s, i = (a.ravel() for a in np.meshgrid(np.arange(56), np.arange(32), indexing='ij'))
    x1, x2, x3 = (r.choice([-0.5, 0.5], len(s)) for _ in range(3))
    df = pd.DataFrame(dict(y=r.normal(size=len(s)), s=s.astype(str), i=i.astype(str), x1=x1, x2=x2, x3=x3))
    d = design("y ~ 1 + (1 + x1 + x2 + x3 | s) + (1 + x1 + x2 + x3 | i)", df)
    A = O.Blocks(d)
    P = A.plans[1, 1]
    assert P.dense and len(P.left.keys) == 56 * 32
    stored = sum(v.nbytes for v in vars(P.left).values() if isinstance(v, np.ndarray))
    assert stored < 2e6                                   # the old plan held 14.7M entries (> 100 MB)
    th = random_theta(d, r)
    assert O.objective(A, th) == pytest.approx(dense_criterion(d, th), rel=1e-10)


@pytest.mark.parametrize('f', FORMULAS)
def test_amalgamated_terms_give_the_criterion_and_gradient_of_the_terms_one_by_one(f):
    """Terms on one grouping factor are one block of the factor (`objective.amalgamated`); with `amalgamate = False` each
    is its own block. Same criterion (1e-10 relative) and gradient at random θ, REML and ML, weighted or not."""
    df = data(11)
    for w in (None, 'w'):
        d = design(f, df, weights=w)
        A, S = O.Blocks(d), O.Blocks(d)
        S.amalgamate = False
        merged = O.amalgamated(A) is not A
        assert merged == (len({t.group for t in d.terms}) < len(d.terms)) and O.amalgamated(S) is S
        r = np.random.default_rng(3)
        for reml in (True, False):
            th = random_theta(d, r)
            assert O.objective(A, th, reml) == pytest.approx(O.objective(S, th, reml), rel=1e-10)
            gS = gradient(S, th, reml)
            np.testing.assert_allclose(gradient(A, th, reml), gS, rtol=1e-8, atol=1e-8 * np.abs(gS).max())


def test_double_bar_is_the_correlated_term_with_zero_correlation():
    "(x||a) at (θ₁, θ₂) is (x|a) at (θ₁, 0, θ₂): the same λ, so the same criterion, and the same factor's block kinds."
    df = data(12)
    A2, A3 = O.Blocks(design("y ~ x + (x||a) + (1|b)", df)), O.Blocks(design("y ~ x + (x|a) + (1|b)", df))
    for th in np.random.default_rng(0).uniform(0.2, 1.5, (4, 3)):
        assert O.objective(A2, th) == pytest.approx(O.objective(A3, [th[0], 0.0, th[1], th[2]]), rel=1e-10)
    L2, L3 = O.update_L(A2, np.ones(3)), O.update_L(A3, np.ones(4))
    assert {k: (O.block_kind(B), B.shape) for k, B in L2.items()} == {k: (O.block_kind(B), B.shape) for k, B in L3.items()}


@pytest.mark.parametrize('f', ["y ~ x + (x||a) + (1|b)", "y ~ x + (1 + x|a) + (1|b) + (0 + z|b) + (1|c)"])
def test_amalgamated_factor_gives_each_terms_modes_and_conditional_variances(f):
    """û and Var(u|y)/σ² per model term from the amalgamated factor equal those of the factor with one block per term
    (`u_hat`, `cond_cov_u` split the merged blocks back), and the dense formulas: û = Λ'Z'V⁻¹r, (Λ'Z'ZΛ + I)⁻¹."""
    d = design(f, data(13))
    A, S = O.Blocks(d), O.Blocks(d)
    S.amalgamate = False
    th = random_theta(d, np.random.default_rng(4))
    La, Ls = O.update_L(A, th), O.update_L(S, th)
    assert len(La.terms) < len(d.terms) == len(Ls.terms)
    k = len(d.terms)
    for ua, us in zip(O.u_hat(La, k), O.u_hat(Ls, k)): np.testing.assert_allclose(ua, us, rtol=1e-9, atol=1e-12)
    for ca, cs in zip(O.cond_cov_u(La, k, d.terms), O.cond_cov_u(Ls, k, d.terms)): np.testing.assert_allclose(ca, cs, rtol=1e-9, atol=1e-12)
    Z, Lam = d.Z.toarray(), d.Lambda(th).toarray()                       # dense, nothing shared with the blocks
    ZL = Z @ Lam
    V = np.eye(d.n) + ZL @ ZL.T
    Vi = np.linalg.inv(V)
    beta = np.linalg.solve(d.X.T @ Vi @ d.X, d.X.T @ Vi @ d.y)
    u = ZL.T @ Vi @ (d.y - d.X @ beta)
    np.testing.assert_allclose(np.concatenate(O.u_hat(La, k)), u, rtol=1e-8, atol=1e-10)
    Ci = np.linalg.inv(ZL.T @ ZL + np.eye(d.q))
    off = np.r_[0, np.cumsum([t.q for t in d.terms])]
    for j, (t, c) in enumerate(zip(d.terms, O.cond_cov_u(La, k, d.terms))):
        blk = Ci[off[j]:off[j + 1], off[j]:off[j + 1]].reshape(t.nlev, t.p, t.nlev, t.p)
        np.testing.assert_allclose(c, blk[np.arange(t.nlev), :, np.arange(t.nlev), :], rtol=1e-8, atol=1e-12)
