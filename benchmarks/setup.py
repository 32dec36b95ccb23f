"""Where the CPU time of a whole fit goes outside the optimizer's evaluations: the setup (formula → design → blocks)
and the work around the optimizer (conditioning, the optimum check, the final factorization). CPU time
(`time.process_time`), medians of rounds, one BLAS thread; mixedlm's whole fit in the same run when it is installed.
Run it with the code to compare on PYTHONPATH (e.g. main's and a branch's) in one sitting: the machine is shared.

    python benchmarks/setup.py [rounds] [--profile]     # default 5 rounds; --profile adds cProfile's top functions
    PYTHONPATH=. /work/scratch/mlmvenv/bin/python benchmarks/setup.py 5      # with mixedlm"""
import cProfile, pstats, sys, time, warnings
import numpy as np
import mixednb.fit as F
from mixednb import load, lmer
from mixednb.core import blas_limit
from mixednb.design import design
from mixednb.objective import Blocks

MODELS = [('sleepstudy', "Reaction ~ Days + (Days | Subject)", 50), ('InstEval', "y ~ service + (1 | s) + (1 | d) + (1 | dept)", 1)]

def cpu(fn, n, rounds):
    "Median CPU milliseconds of one call of fn, over `rounds` rounds of n calls (after one warm-up call)."
    fn(); out = []
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(n): fn()
        out.append((time.process_time() - t) / n)
    return 1e3 * float(np.median(out))

def in_fits(f, data, n):
    """Per fit, CPU milliseconds of the whole fit, of the criterion and gradient calls (the evaluations), and of the
    first optimizer's own work (`_first_optimizer` less its evaluations: scipy's L-BFGS-B), and the calls."""
    acc = dict(ev=0.0, opt=0.0, ev_opt=0.0, nf=0, ng=0)
    class Timed(F.Tracker):
        def __init__(self, fn, grad):
            def timed(g, k):
                def h(x):
                    t = time.process_time(); v = g(x); acc['ev'] += time.process_time() - t; acc[k] += 1; return v
                return h
            super().__init__(timed(fn, 'nf'), timed(grad, 'ng'))
    first = F._first_optimizer
    def first_timed(*a, **k):
        t, e = time.process_time(), acc['ev']
        try: return first(*a, **k)
        finally: acc['opt'] += time.process_time() - t; acc['ev_opt'] += acc['ev'] - e
    plain, F.Tracker, F._first_optimizer = F.Tracker, Timed, first_timed
    try:
        t = time.process_time()
        for _ in range(n): lmer(f, data)
        total = time.process_time() - t
    finally: F.Tracker, F._first_optimizer = plain, first
    return 1e3 * total / n, 1e3 * acc['ev'] / n, 1e3 * (acc['opt'] - acc['ev_opt']) / n, acc['nf'] / n, acc['ng'] / n

def mixedlm_fit(f, data, n, rounds):
    "Median CPU milliseconds of mixedlm's whole fit, or None without mixedlm."
    try:
        import mixedlm
        from threadpoolctl import threadpool_limits
    except ImportError: return None
    with threadpool_limits(1): return cpu(lambda: mixedlm.lmer(f, data), n, rounds)

def main(rounds=5, profile=False):
    warnings.simplefilter('ignore')
    for name, f, n in MODELS:
        data = load(name)
        with blas_limit(1):
            d = design(f, data)
            row = dict(design=cpu(lambda: design(f, data), n, rounds), blocks=cpu(lambda: Blocks(d), n, rounds),
                       init=cpu(lambda: F.LinearMixedModel(f, data), n, rounds))
            row['lmer'], ev, opt, nf, ng = in_fits(f, data, n * rounds)
        row['evaluations'], row['L-BFGS-B itself'] = ev, opt
        row['rest of fit'] = row['lmer'] - row['init'] - ev - opt
        ml = mixedlm_fit(f, data, n, rounds)
        print(f"{name} ({n} fits a round, {rounds} rounds), CPU ms per fit: " + ', '.join(f"{k} {v:.2f}" for k, v in row.items())
              + f"; {nf:.0f} criterion and {ng:.0f} gradient calls" + (f"; mixedlm whole fit {ml:.2f} (ratio mixednb/mixedlm {row['lmer'] / ml:.2f})" if ml else ''))
        if profile:
            pr = cProfile.Profile(); pr.enable()
            with blas_limit(1):
                for _ in range(n): F.LinearMixedModel(f, data)
            pr.disable()
            pstats.Stats(pr).sort_stats('cumulative').print_stats(25)

if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    main(int(args[0]) if args else 5, '--profile' in sys.argv)
