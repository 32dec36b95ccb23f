"""`(x||g)` against `(x|g)` per evaluation (issue 11: "`||` costs what `|` costs"), on the psycholinguistic data of
shapes.py: `y ~ stimulus + task + (stimulus || id) + (task || item)` (amalgamated: one block per grouping factor), the
same with `|`, and the `||` model with each term its own block (`amalgamate = False`, as before the amalgamation).
CPU time (`time.process_time`) of one evaluation and of one evaluation with its gradient (`criterion_and_gradient`),
one BLAS thread, the three models taken in turn (the order rotated each round, since the first after a large one
runs on a cold cache); medians of the rounds.

    python benchmarks/double_bar.py [rounds]"""
import sys, os, time
import numpy as np
from threadpoolctl import threadpool_limits
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from shapes import MODELS, psycholing
from mixednb.design import design
from mixednb.objective import Blocks, objective
from mixednb.gradient import criterion_and_gradient


def main(rounds=15):
    data = psycholing()
    dd, dc = design(MODELS['psycholing'][1], data), design(MODELS['psycholing_corr'][1], data)
    S = Blocks(dd); S.amalgamate = False
    models = {'(x||g), amalgamated': (Blocks(dd), np.array([0.8, 0.5, 0.7, 0.3])),
              '(x|g)': (Blocks(dc), np.array([0.8, 0.1, 0.5, 0.7, -0.1, 0.3])),
              '(x||g), one block per term': (S, np.array([0.8, 0.5, 0.7, 0.3]))}
    fg = {k: criterion_and_gradient(A) for k, (A, _) in models.items()}
    ev, eg, names = {k: [] for k in models}, {k: [] for k in models}, list(models)
    with threadpool_limits(1):
        for k, (A, th) in models.items(): objective(A, th); fg[k][0](th); fg[k][1](th)
        for r in range(rounds):
            for k in names[r % 3:] + names[:r % 3]:
                A, th = models[k]
                t = time.process_time(); objective(A, th); ev[k].append(time.process_time() - t)
                f, g = fg[k]
                t = time.process_time(); f(th); g(th); eg[k].append(time.process_time() - t)
    print(f"{'model':30s} {'eval ms':>8s} {'eval + gradient ms':>19s}")
    for k in names: print(f"{k:30s} {np.median(ev[k]) * 1e3:8.2f} {np.median(eg[k]) * 1e3:19.2f}")


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
