"""Benchmark: the crossed InstEval model `y ~ service + (1|s) + (1|d) + (1|dept)` (73421 rows, 4114 random effects).

    python benchmarks/insteval.py            # every configuration, each in a fresh process
    python benchmarks/insteval.py --one bobyqa 1   # one run: optimizer, BLAS threads during the fit ('' = BLAS's own default)

Prints, per configuration: setup time (design, the blocks of A and the downdate plans), optimizer time, total fit
time, evaluations, time per evaluation, and the criterion's distance from lme4 1.1-31's. The machines are shared
and noisy: compare the figures of one run with each other, and repeat a run before trusting a difference.
"""
import json, os, subprocess, sys, time
from pathlib import Path

FORMULA = "y ~ service + (1|s) + (1|d) + (1|dept)"
REF = Path(__file__).resolve().parent.parent / 'tests' / 'reference' / 'insteval_reml.json'

def one(optimizer, threads):
    "Fit once in this process and print one line of figures."
    import warnings; warnings.simplefilter('ignore')
    from mixednb import lmer, load
    from mixednb.fit import LinearMixedModel
    data = load('InstEval')
    t0 = time.perf_counter()
    m = LinearMixedModel(FORMULA, data); m.A.plans
    t1 = time.perf_counter()
    m.fit(optimizer=optimizer, blas_threads=int(threads) if threads else None)
    t2 = time.perf_counter()
    ref = json.loads(REF.read_text())
    ev = m.optsum['feval']
    print(f"{optimizer:7s} blas_threads={threads or 'None':4s} setup {t1 - t0:5.2f}s  optimize {m.optsum['seconds']:5.2f}s  "
          f"fit {t2 - t0:5.2f}s  evals {ev:4d}  {m.optsum['seconds'] / ev * 1000:5.1f} ms/eval  "
          f"criterion - lme4's = {m.objective - ref['objective']:+.2e}", flush=True)

def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--one':
        return one(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else '')
    ref = json.loads(REF.read_text())
    print(f"InstEval {FORMULA}; lme4 1.1-31 on a 2-core machine: {ref['seconds']} s, {ref['feval']} evaluations (reference file)")
    for optimizer in ('bobyqa', 'cobyqa'):
        for threads in ('1', ''):
            subprocess.run([sys.executable, __file__, '--one', optimizer, threads], check=True)

if __name__ == '__main__':
    main()
