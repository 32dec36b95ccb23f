"""Evaluations and wall time of whole fits (design included), mixednb against mixedlm and lme4 in the same run, as
ratios: the machines are shared and noisy. mixedlm (`pip install mixedlm`) and R's lme4 (`Rscript` on the PATH) are used
when present, never required. Every fitter runs with one BLAS thread (mixednb's default; mixedlm's OpenBLAS would
otherwise take both cores of a loaded machine and its times jump between 8 and 90 ms on sleepstudy).

    python benchmarks/fits.py [repeats]      # default 3; prints one table (medians of the repeats)

The fitters take turns within each repeat (mixednb, mixedlm, mixednb, …) after one warm-up fit each, so that both see
the same load; a model whose fits take under 0.1 s is repeated at least 41 times (a 5 ms fit's median of 3 moves by
±20% on a shared machine). lme4 runs its repeats in one R process after a warm-up fit."""
import json, os, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np, pandas as pd
from mixednb import LinearMixedModel, load

MODELS = [('sleepstudy', "Reaction ~ Days + (Days | Subject)"), ('InstEval', "y ~ service + (1 | s) + (1 | d) + (1 | dept)")]

def mixednb_fit(data, f):
    t = time.perf_counter(); m = LinearMixedModel(f, data).fit(); t = time.perf_counter() - t
    return t, m.optsum['feval'], m.optsum['geval'], m.objective

def mixedlm_fit(data, f):
    import mixedlm
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        t = time.perf_counter(); r = mixedlm.lmer(f, data); t = time.perf_counter() - t
    return t, int(r.function_evals), None, float(r.REMLcrit())

def lme4_fit(name, f, repeats):
    "Median seconds and evaluations of lme4 in one R process (after a warm-up fit)."
    if not shutil.which('Rscript'): return None
    with tempfile.TemporaryDirectory() as d:
        load(name).to_csv(f"{d}/x.csv", index=False)
        code = (f"suppressMessages(library(lme4)); d <- read.csv('{d}/x.csv', stringsAsFactors=TRUE); "
                f"m <- lmer({f}, d); ts <- sapply(1:{repeats}, function(i) system.time(m <<- lmer({f}, d))[['elapsed']]); "
                "cat(median(ts), m@optinfo$feval, format(getME(m, 'devcomp')$cmp[['REML']], digits = 15), '\\n')")
        out = subprocess.run(['Rscript', '-e', code], capture_output=True, text=True, timeout=3600,
                             env={**os.environ, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'})
    if out.returncode: return None
    t, n, crit = out.stdout.split()
    return float(t), int(n), None, float(crit)

def main(repeats=3):
    warnings.simplefilter('ignore')
    rows = []
    for name, f in MODELS:
        data = load(name)
        fitters = {'mixednb': mixednb_fit}
        try:
            import mixedlm
            fitters['mixedlm'] = mixedlm_fit
        except ImportError: pass
        first = {k: fit(data, f) for k, fit in fitters.items()}             # warm-up (imports, caches)
        n = repeats if min(r[0] for r in first.values()) > 0.1 else max(repeats, 41)   # millisecond fits: many, for a stable median
        runs = {k: [] for k in fitters}
        for _ in range(n):                                                   # alternated: both see the same load
            for k, fit in fitters.items(): runs[k].append(fit(data, f))
        r = lme4_fit(name, f, n)
        if r: runs['lme4'] = [r]
        for k, v in runs.items():
            rows.append(dict(model=name, fitter=k, seconds=np.median([x[0] for x in v]), evaluations=v[0][1],
                             gradients=v[0][2], criterion=v[0][3]))
    R = pd.DataFrame(rows)
    for name, _ in MODELS:
        sub = R.model == name
        R.loc[sub, 'time / mixednb'] = R.loc[sub, 'seconds'] / R.loc[sub & (R.fitter == 'mixednb'), 'seconds'].iloc[0]
    print(R.to_string(index=False))

if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
