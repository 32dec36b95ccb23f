"""Where the sparse kind of the second term's block (mixednb.sparse_block) beats the dense one: CPU time of one
factorization of that block (LAPACK dpotrf on the dense block against QDLDL's refactorization on the fixed pattern),
of one evaluation, and of one evaluation with its gradient, each kind forced, on generated designs whose second term
is large and whose block fills in more or less:

- nested `y ~ x + (1|b/a)`: b (the second term) with q levels, 5 rows each; its block is diagonal after the update;
- crossed `y ~ x + (1|a) + (1|b)`: a with ℓ_a = k·q levels of 2 rows each, every row at a random level of b (q levels),
  so each level of a joins two levels of b in the block: a random graph of mean degree about 2k, whose factor fills
  in more as k grows.

The `ratio` column is (sparse time / Σ c_i², c_i the entries of column i of L + 1) ÷ (dense time / (q³/3)): how much
dearer one multiplication is in the sparse factorization than in the dense one; `sparse_block`'s DENSE_SECONDS, PAIR_SECONDS
and LEVEL_SECONDS are fitted to the eval+grad columns; `chosen` is what `sparse_block.choose` picks, `levels` the
height of the elimination tree. CPU times (`time.process_time`), medians of 3, one BLAS thread.

    python benchmarks/sparse_block.py [--big] [case ...]
        # --big adds q = 50,000 (sparse only: dense would need 20 GB); cases by the start of their name, '_' for ' '
        # (e.g. crossed_q=2000 nested_q=50000)"""
import resource, sys, time
import numpy as np, pandas as pd
from threadpoolctl import threadpool_limits
from mixednb.design import design
from mixednb import objective as O, sparse_block as SB
from mixednb.gradient import gradient


def nested(q, per=5, seed=0):
    r = np.random.default_rng(seed)
    n = q * per
    df = pd.DataFrame(dict(b=np.repeat(np.arange(q), per), a=r.integers(0, 3, n), x=r.normal(size=n)))
    df['y'] = df.x + r.normal(size=q)[df.b] + 0.5 * r.normal(size=n) + r.normal(size=n)
    return design("y ~ x + (1|b/a)", df)


def crossed(q, k, m=2, seed=0):
    r = np.random.default_rng(seed)
    la = int(k * q); n = la * m
    a, b = np.repeat(np.arange(la), m), r.integers(0, q, n)
    df = pd.DataFrame(dict(a=a, b=b, x=r.normal(size=n)))
    df['y'] = df.x + r.normal(size=la)[a] + r.normal(size=q)[b] + r.normal(size=n)
    return design("y ~ x + (1|a) + (1|b)", df)


def cpu(f, reps=3):
    ts = []
    for _ in range(reps):
        t = time.process_time(); f(); ts.append(time.process_time() - t)
    return float(np.median(ts))


def row(name, d, dense_ok=True):
    th = np.array([0.9, 1.1])
    As = O.Blocks(d); SB.force(As, 'sparse')
    L = O.update_L(As, th)
    F, plan = L[1, 1], As._zcache['sparse_block']
    lam = O.lambdas(d.terms, th)
    Fd = {i: O.first_column(As, i, lam[i], O._first_block(As, d.terms[0], lam[0])[1]) for i in (1,)}
    P = O.first_product(As, 1, 1, Fd)
    c = np.diff(F.L.indptr).astype(float) + 1
    q = F.shape[0]
    out = dict(design=name, q=q, **{'S entries': plan.nnz, 'L entries': F.L.nnz, 'levels': len(F.levels[0]), 'sparse flops': float(c @ c),
                                    'dense flops': q ** 3 / 3})
    out['sparse factor ms'] = 1e3 * cpu(lambda: plan.factor(As, lam[1], P))
    out['sparse eval ms'] = 1e3 * cpu(lambda: O.objective(As, th))
    if F.L.nnz < 0.05 * q * q or not dense_ok: out['sparse eval+grad ms'] = 1e3 * cpu(lambda: gradient(As, th))
    if dense_ok:
        Ad = O.Blocks(d); SB.force(Ad, 'dense')
        M = O.dense(F) @ O.dense(F).T
        out['dense factor ms'] = 1e3 * cpu(lambda: O._chol(M.copy(), 'S'))
        out['dense eval ms'] = 1e3 * cpu(lambda: O.objective(Ad, th))
        out['dense eval+grad ms'] = 1e3 * cpu(lambda: gradient(Ad, th))
        out['ratio'] = (out['sparse factor ms'] / out['sparse flops']) / (out['dense factor ms'] / out['dense flops'])
        if 'sparse eval+grad ms' in out:                  # the same for evaluation + gradient (dense: dpotrf + dpotri, q³)
            out['ratio e+g'] = (out['sparse eval+grad ms'] / out['sparse flops']) / (out['dense eval+grad ms'] / q ** 3)
    A = O.Blocks(d); O.update_L(A, th)
    out['chosen'] = 'sparse' if A._zcache.get('sparse_block') is not None else 'dense'
    return out


def main(big=False, only=None):
    resource.setrlimit(resource.RLIMIT_AS, (8 * 2 ** 30, 8 * 2 ** 30))    # 8 GiB: a case that needs more stops here
    rows = []
    with threadpool_limits(1):
        cases = [(f"nested q={q}", lambda q=q: nested(q), True) for q in (1000, 4000, 10000)]
        cases += [(f"crossed q={q} k={k}", lambda q=q, k=k: crossed(q, k), True) for q in (2000, 6000) for k in (1.05, 1.5, 2.5, 4)]
        if big: cases += [("nested q=50000", lambda: nested(50_000), False), ("crossed q=50000 k=1.05", lambda: crossed(50_000, 1.05), False)]
        for name, make, dense_ok in cases:
            if only and not any(name.startswith(o) for o in only): continue
            r = row(name, make(), dense_ok); rows.append(r)
            print(r, file=sys.stderr, flush=True)
    with pd.option_context('display.width', 250, 'display.max_columns', 30):
        print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3g}"))


if __name__ == '__main__':
    main('--big' in sys.argv, [a.replace('_', ' ') for a in sys.argv[1:] if a != '--big'])
