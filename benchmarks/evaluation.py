"""The CPU time (`time.process_time`: the machine is shared, and wall time counts the time other processes hold the CPU) of one evaluation of the criterion (and of the criterion with its gradient) against the dense Cholesky
factorization it cannot avoid (the later terms' Schur complement, q_r × q_r), per model shape, in one process with
one BLAS thread; and the memory the first term's update keeps (its patterns, `Blocks.plans`, its pairs of entries
and their values, and dense copies of Z_i'Z_1). `setup_s` is the CPU time to make the blocks and plans from the design.
Terms on one grouping factor are one block (`objective.amalgamated`): q₁, q_rest, the kinds and the plans are those of
the amalgamated blocks; `unmerged_ms` is one evaluation with each term its own block (`amalgamate = False`), where
that differs.

    python benchmarks/evaluation.py [model ...]      # the models of shapes.py; default all but crossed1e6"""
import sys, time, os
import numpy as np
from threadpoolctl import threadpool_limits
from scipy.linalg.lapack import dpotrf
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes import MODELS
from mixednb.design import design
from mixednb.objective import Blocks, objective, amalgamated
from mixednb.gradient import criterion_and_gradient


def median_time(fn, k=5):
    ts = []
    for _ in range(k):
        t = time.process_time(); fn(); ts.append(time.process_time() - t)
    return float(np.median(ts))


def row(name):
    make, f, _ = MODELS[name]
    d = design(f, make())
    t = time.process_time(); A0 = Blocks(d); A = amalgamated(A0); A.plans; A.downdates; A.first_dense; A.pair_values; setup = time.process_time() - t
    th = np.where(d.theta_lower == 0, 0.8, 0.1)
    S = Blocks(d); S.amalgamate = False; objective(S, th)
    unmerged = median_time(lambda: objective(S, th)) if A is not A0 else float('nan')
    fo, go = criterion_and_gradient(A0)
    objective(A0, th)
    ev = median_time(lambda: objective(A0, th))
    fg = median_time(lambda: (fo(th), go(th)), 3)
    qr = sum(t.q for t in A.terms[1:])
    M = np.eye(qr) * qr + 0.5
    chol = median_time(lambda: dpotrf(M, lower=1), 5) if qr else float('nan')
    kept = sum(v.nbytes for P in {id(P.left): P.left for P in A.plans.values()}.values() for v in vars(P).values() if isinstance(v, np.ndarray))
    kept += sum(D.nbytes for D in A.first_dense.values())
    kept += sum(v.nbytes for P in A.plans.values() if P.pairs is not None for v in vars(P.pairs).values() if isinstance(v, np.ndarray))
    kept += sum(K.data.nbytes + K.indices.nbytes + K.indptr.nbytes for K in A.pair_values.values())
    kinds = ','.join(sorted({'pairs' if P.pairs is not None else 'dense' if P.dense else 'sparse' for P in A.plans.values()}))
    return dict(model=name, q1=A.terms[0].q, q_rest=qr, kinds=kinds, setup_s=setup, eval_ms=ev * 1e3, unmerged_ms=unmerged * 1e3, eval_grad_ms=fg * 1e3,
                chol_ms=chol * 1e3, eval_over_chol=ev / chol, plan_MB=kept / 2 ** 20)


if __name__ == '__main__':
    import pandas as pd, warnings
    warnings.simplefilter('ignore')
    names = sys.argv[1:] or [m for m in MODELS if m != 'crossed1e6']
    with threadpool_limits(1):
        R = pd.DataFrame([row(n) for n in names])
    print(R.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
