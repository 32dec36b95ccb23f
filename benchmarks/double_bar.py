"""`(x||g)` against `(x|g)` (issue 11: "`||` costs what `|` costs"), per evaluation and per fit.

Models: the psycholinguistic data of shapes.py, `y ~ stimulus + task + (stimulus || id) + (task || item)` (amalgamated:
one block per grouping factor) and the same with `|`; generated data (2000 rows, g: 100 levels, h: 30), `y ~ x + (x || g)`
against `y ~ x + (x | g)`, and `y ~ x + (1 | g) + (0 + x | g) + (x | h)` against `y ~ x + (x | g) + (x | h)`.

Part 1, per evaluation: CPU time (`time.process_time`, one BLAS thread) of the criterion f and then its gradient g at
the same θ (`criterion_and_gradient`, as a fit calls them), and of `objective` alone; the models taken in turn, the
order rotated each round and each model called ~10 ms' worth of times in a row (the first call after a large model
runs on a cold cache); medians over the calls. `path` says which
gradient the model takes: `OneTerm` (one term, or terms on one grouping factor only), `workspace` (`GradientWorkspace`),
or `general` (`gradient`).

Part 2, per fit (when mixedlm imports: run this with a Python that has it, e.g. /work/scratch/mlmvenv/bin/python
with PYTHONPATH at the project): mixednb's `lmer` and mixedlm's `lmer` alternated in one process after a warm-up of
each, CPU seconds per fit (medians), and their ratio.

    python benchmarks/double_bar.py [rounds] [fit_rounds]"""
import sys, os, time, warnings
import numpy as np, pandas as pd
from threadpoolctl import threadpool_limits
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes import MODELS, psycholing
from mixednb.design import design
from mixednb.objective import Blocks, objective, amalgamated
from mixednb import gradient as G


def generated(n=2000, seed=1):
    "2000 rows, g: 100 levels with a random intercept and slope on x, h: 30 levels crossed with g."
    r = np.random.default_rng(seed)
    g, h, x = r.integers(0, 100, n), r.integers(0, 30, n), r.normal(size=n)
    y = 1 + x + r.normal(size=100)[g] + 0.5 * x * r.normal(size=100)[g] + r.normal(size=30)[h] + r.normal(size=n)
    return pd.DataFrame(dict(y=y, x=x, g=[f"g{k}" for k in g], h=[f"h{k}" for k in h]))


def models():
    P, D = psycholing(), generated()
    return {'psycholing ||': (MODELS['psycholing'][1], P), 'psycholing |': (MODELS['psycholing_corr'][1], P),
            '(x||g)': ("y ~ x + (x || g)", D), '(x|g)': ("y ~ x + (x | g)", D),
            '(1|g)+(0+x|g)+(x|h)': ("y ~ x + (1 | g) + (0 + x | g) + (x | h)", D),
            '(x|g)+(x|h)': ("y ~ x + (x | g) + (x | h)", D)}


def path(A, f):
    "Which gradient `criterion_and_gradient` gives the model (f: its criterion)."
    if isinstance(getattr(f, '__self__', None), G.OneTerm): return 'OneTerm'
    return 'workspace' if G.dense_gradient_fits(A) else 'general'


def per_evaluation(M, rounds):
    rows, names = {}, list(M)
    for k, (f, data) in M.items():
        d = design(f, data); A = Blocks(d)
        rows[k] = (A, np.where(d.theta_lower == 0, 0.7, 0.1), G.criterion_and_gradient(A))
    tf, tg, to, reps = *({k: [] for k in names} for _ in range(3)), {}
    with threadpool_limits(1):
        for k, (A, th, (f, g)) in rows.items():
            objective(A, th); t = time.process_time(); f(th); g(th)
            reps[k] = max(1, int(0.01 / max(time.process_time() - t, 1e-6)))      # ~10 ms of calls per model and round
        for r in range(rounds):
            for k in names[r % len(names):] + names[:r % len(names)]:
                A, th, (f, g), m = *rows[k], reps[k]
                for _ in range(m):                     # f then g at its θ, as a fit calls them; then `objective`
                    t0 = time.process_time(); f(th); t1 = time.process_time(); g(th); t2 = time.process_time()
                    objective(A, th); t3 = time.process_time()
                    tf[k].append(t1 - t0); tg[k].append(t2 - t1); to[k].append(t3 - t2)
    print(f"{'model':22s} {'path':>9s} {'objective ms':>13s} {'f ms':>7s} {'g ms':>7s} {'f + g ms':>9s}")
    for k in names:
        print(f"{k:22s} {path(rows[k][0], rows[k][2][0]):>9s} {np.median(to[k]) * 1e3:13.3f} {np.median(tf[k]) * 1e3:7.3f} "
              f"{np.median(tg[k]) * 1e3:7.3f} {np.median(np.add(tf[k], tg[k])) * 1e3:9.3f}")


def per_fit(M, rounds):
    try: import mixedlm
    except ImportError: print("\n(mixedlm does not import here: no per-fit comparison)"); return
    from mixednb import lmer
    warnings.simplefilter('ignore')
    def cpu(fn):
        t = time.process_time(); fn(); return time.process_time() - t
    print(f"\n{'model':22s} {'mixednb s':>10s} {'mixedlm s':>10s} {'mixedlm / mixednb':>18s} {'mixednb evals':>14s}")
    with threadpool_limits(1):
        for k, (f, data) in M.items():
            m = lmer(f, data); mixedlm.lmer(f, data)
            a, b = [], []
            for _ in range(rounds):
                a.append(cpu(lambda: lmer(f, data))); b.append(cpu(lambda: mixedlm.lmer(f, data)))
            print(f"{k:22s} {np.median(a):10.4f} {np.median(b):10.4f} {np.median(b) / np.median(a):18.2f} {m.optsum['feval']:14d}")


if __name__ == '__main__':
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    M = models()
    per_evaluation(M, rounds)
    per_fit(M, int(sys.argv[2]) if len(sys.argv) > 2 else 7)
