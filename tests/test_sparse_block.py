"""The sparse kind of the second term's block (mixednb.sparse_block) gives the criterion of the dense formula to 1e-10
relative and the gradient of the dense kind to 1e-10, forced on the generated crossed, nested, vector, `||` and
weighted designs of test_block_paths, with each kind of first-term update; Takahashi's selected inverse equals the
dense inverse on the factor's pattern; the kind is chosen by size and fill."""
import numpy as np, pandas as pd, pytest, scipy.sparse as sp
import qdldl
from mixednb.design import design
from mixednb import objective as O, sparse_block as SB
from mixednb.gradient import gradient, criterion_and_gradient
from test_block_paths import data, FORMULAS, force, dense_criterion, random_theta

NESTED = "y ~ x + (1|b/a)"


def blocks(d, update, block):
    A = O.Blocks(d); force(A, update); SB.force(A, block)
    return A


@pytest.mark.parametrize('f', FORMULAS + [NESTED])
@pytest.mark.parametrize('weighted', [False, True])
def test_sparse_block_gives_the_dense_criterion_and_gradient(f, weighted):
    df = data(4)
    d = design(f, df, weights='w' if weighted else None)
    r = np.random.default_rng(11)
    for reml in (True, False):
        th = random_theta(d, r)
        want = dense_criterion(d, th, reml, df.w.to_numpy() if weighted else None)
        g_dense = gradient(blocks(d, 'sparse', 'dense'), th, reml)
        for update in ('dense', 'sparse', 'pairs'):
            A = blocks(d, update, 'sparse')
            L = O.update_L(A, th)
            assert O.block_kind(L[1, 1]) == 'sparse Cholesky'
            assert O.criterion(L, A.n, A.p, len(A.terms), reml) == pytest.approx(want, rel=1e-10), (update, f)
            np.testing.assert_allclose(gradient(A, th, reml), g_dense, rtol=1e-10, atol=1e-10 * np.abs(g_dense).max())


def test_conditional_modes_and_variances_agree():
    d = design("y ~ x + (1|a) + (1|b) + (1|c)", data(2))
    th = np.array([0.9, 1.2, 0.5])
    Ld, Ls = (O.update_L(blocks(d, 'sparse', k), th) for k in ('dense', 'sparse'))
    for u, v in zip(O.u_hat(Ld, 3), O.u_hat(Ls, 3)): np.testing.assert_allclose(v, u, rtol=1e-10, atol=1e-12)
    for u, v in zip(O.cond_cov_u(Ld, 3, d.terms), O.cond_cov_u(Ls, 3, d.terms)): np.testing.assert_allclose(v, u, rtol=1e-10, atol=1e-12)


def test_takahashi_equals_the_dense_inverse_on_the_pattern():
    r = np.random.default_rng(3)
    for q, dens in [(60, 0.05), (200, 0.01), (40, 0.3)]:
        S = sp.random(q, q, density=dens, random_state=r.integers(1 << 30)); S = (S + S.T + sp.eye(q) * (1 + q * dens)).tocsc()
        L, dd, p = qdldl.Solver(sp.triu(S, format='csc'), upper=True).factors()
        L = L.tocsc(); L.sort_indices()
        Zo, Zd = SB.takahashi(L, dd)
        Z = np.linalg.inv(S.toarray()[np.ix_(p, p)])
        np.testing.assert_allclose(Zd, np.diag(Z), rtol=1e-12)
        np.testing.assert_allclose(Zo, Z[L.indices, np.repeat(np.arange(q), np.diff(L.indptr))], rtol=1e-10, atol=1e-14)


def test_selected_inverse_reads_like_the_lower_triangle_of_the_inverse():
    r = np.random.default_rng(5)
    q = 50
    S = sp.random(q, q, density=0.06, random_state=2); S = (S + S.T + sp.eye(q) * 4).tocsr()
    L, dd, p = qdldl.Solver(sp.triu(S, format='csc'), upper=True).factors()
    Sl = sp.tril(S).tocoo()
    flat = np.unique(Sl.row.astype(np.int64) * q + Sl.col)
    C = SB.SelectedInverse(SB.SparseFactor(L, dd, np.asarray(p), flat), flat)
    Cd = np.tril(np.linalg.inv(S.toarray()))
    rr, cc = np.divmod(flat, q)
    np.testing.assert_allclose(C[rr, cc], Cd[rr, cc], rtol=1e-10)
    np.testing.assert_allclose(C[cc[cc < rr], rr[cc < rr]], 0.0)                      # zeros above the diagonal
    np.testing.assert_allclose(np.diag(C), np.diag(Cd), rtol=1e-12)
    M = np.zeros((q, q)); M[rr, cc] = r.normal(size=len(rr))
    assert np.vdot(C, M) == pytest.approx(np.vdot(Cd, M), rel=1e-10)


def nested(n_groups, per=5, seed=0):
    r = np.random.default_rng(seed)
    n = n_groups * per
    b = np.repeat(np.arange(n_groups), per)
    df = pd.DataFrame(dict(b=b, a=r.integers(0, 3, n), x=r.normal(size=n)))
    df['y'] = df.x + r.normal(size=n_groups)[df.b] + r.normal(size=n)
    return df


def test_the_kind_is_chosen_by_size_and_fill():
    "A big nested second term (diagonal after the update) is sparse; a small one and a filled crossed one are dense."
    th = np.array([0.8, 1.1])
    big = design(NESTED, nested(1500))                     # b: 1500 levels, b:a ~4000: the second term is b
    A = O.Blocks(big)
    L = O.update_L(A, th)
    assert A.terms[1].nlev == 1500 and O.block_kind(L[1, 1]) == 'sparse Cholesky'
    assert O.objective(A, th) == pytest.approx(O.objective(blocks(big, 'sparse', 'dense'), th), rel=1e-10)
    small = O.Blocks(design(NESTED, nested(200)))
    assert O.block_kind(O.update_L(small, th)[1, 1]) == 'dense'
    r = np.random.default_rng(1)
    df = pd.DataFrame(dict(y=r.normal(size=20000), x=r.normal(size=20000), a=r.integers(0, 2000, 20000), b=r.integers(0, 600, 20000)))
    A = O.Blocks(design("y ~ x + (1|a) + (1|b)", df))      # each level of a meets 10 of b: S fills in
    assert O.block_kind(O.update_L(A, th)[1, 1]) == 'dense'


def test_a_fit_with_the_sparse_block_matches_the_dense_one():
    from mixednb import LinearMixedModel
    df = nested(1500, seed=2)
    m = LinearMixedModel(NESTED, df).fit()
    assert O.block_kind(O.update_L(m.A, np.asarray(m.theta, float))[1, 1]) == 'sparse Cholesky'
    A = O.Blocks(m.design); SB.force(A, 'dense')
    assert O.objective(A, m.theta) == pytest.approx(m.objective, rel=1e-10)
    f, g = criterion_and_gradient(A)
    assert np.abs(g(np.asarray(m.theta, float))).max() < 1e-2         # a stationary point of the dense criterion too
