"""Wall and CPU time of whole glmer fits (design included), mixednb against mixedlm and lme4 in the same run, as
ratios: the machines are shared and noisy. mixedlm (`pip install mixedlm`, 1.3 has `glmer`) and R's lme4 (`Rscript`
on the PATH) are used when present, never required. One BLAS thread for every fitter (mixednb's default). mixednb's
and mixedlm's fits are taken in turn (mixednb, mixednb without derivatives, mixedlm, repeated), so that both see the
same load; lme4 runs in its own R process right after. CPU seconds are the process's (all its threads), R's user +
system time for lme4.

    PYTHONPATH=. /work/scratch/mlmvenv/bin/python benchmarks/glmer.py [repeats]   # default 3: medians of the repeats

Models: VerbAgg (binomial, crossed persons × items, 7,584 rows: lme4's example `r2 ~ (Anger + Gender + btype + situ) +
(1|id) + (1|item)`) and cbpp (binomial proportions, `cbind(incidence, size - incidence) ~ period + (1|herd)`). The
criterion column is −2 log L as each fitter reports it (Laplace). mixednb's time includes lme4's finite-difference
Hessian for the standard errors (as lme4's default does) and a Newton polish; `mixednb (no derivs)` is the fit alone."""
import os, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np, pandas as pd
from mixednb import glmer, load
from mixednb.datasets import FACTORS

MODELS = [
    ('VerbAgg', "r2 ~ (Anger + Gender + btype + situ) + (1 | id) + (1 | item)",
     "r2n ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)", None),
    ('cbpp', "cbind(incidence, size - incidence) ~ period + (1 | herd)", "prop ~ period + (1 | herd)", 'size'),
]


def timed(fit):
    "(wall seconds, CPU seconds, evaluations, criterion) of fit() → (evaluations, criterion)."
    t, c = time.perf_counter(), time.process_time()
    n, crit = fit()
    return time.perf_counter() - t, time.process_time() - c, n, crit


def mixednb_fit(data, f, derivs=True):
    def fit():
        m = glmer(f, data, control=None if derivs else dict(calc_derivs=False))
        return m.optsum['feval'], m.objective
    return timed(fit)


def mlm_data(name):
    "The data as mixedlm reads it: a 0/1 response for VerbAgg, proportions for cbpp."
    d = load(name)
    if name == 'VerbAgg': d['r2n'] = (d.r2 == 'Y').astype(float)
    if name == 'cbpp': d['prop'] = d.incidence / d['size']
    return d


def mixedlm_fit(name, f, wname):
    import mixedlm
    from mixedlm.families import Binomial
    from threadpoolctl import threadpool_limits
    d = mlm_data(name)
    w = None if wname is None else d[wname].to_numpy(float)
    def fit():
        r = mixedlm.glmer(f, d, family=Binomial(), weights=w)
        return int(getattr(r, 'n_iter', 0) or 0), -2 * float(r.logLik().value)
    with threadpool_limits(1): return timed(fit)


def lme4_fit(name, f, repeats):
    "Median wall and CPU seconds of lme4 in one R process (after a warm-up fit), its evaluations and −2 log L."
    if not shutil.which('Rscript'): return None
    facs = ''.join(f"d${c} <- factor(d${c}); " for c in FACTORS.get(name, ()))      # cbpp's period is written 1..4
    with tempfile.TemporaryDirectory() as d:
        load(name).to_csv(f"{d}/x.csv", index=False)
        code = (f"suppressMessages(library(lme4)); d <- read.csv('{d}/x.csv', stringsAsFactors=TRUE); {facs}"
                f"m <- glmer({f}, d, family = binomial); "
                f"ts <- sapply(1:{repeats}, function(i) system.time(m <<- glmer({f}, d, family = binomial))); "
                "cat(median(ts['elapsed', ]), median(ts['user.self', ] + ts['sys.self', ]), m@optinfo$feval, "
                "format(-2 * as.numeric(logLik(m)), digits = 15), '\\n')")
        out = subprocess.run(['Rscript', '-e', code], capture_output=True, text=True, timeout=3600,
                             env={**os.environ, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'})
    if out.returncode: return None
    t, c, n, crit = out.stdout.split()
    return float(t), float(c), int(n), float(crit)


def main(repeats=3):
    warnings.simplefilter('ignore')
    os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
    rows = []
    for name, f, fm, wname in MODELS:
        data = load(name)
        mixednb_fit(data, f, derivs=False)                                  # warm-up (imports, caches)
        try: mixedlm_fit(name, fm, wname); mlm = True                      # warm-up (its first call compiles)
        except ImportError: mlm = False
        runs = {'mixednb': [], 'mixednb (no derivs)': [], **({'mixedlm': []} if mlm else {})}
        for _ in range(repeats):                                            # in turn: the same load for each
            runs['mixednb'].append(mixednb_fit(data, f))
            runs['mixednb (no derivs)'].append(mixednb_fit(data, f, derivs=False))
            if mlm: runs['mixedlm'].append(mixedlm_fit(name, fm, wname))
        r = lme4_fit(name, f, repeats)
        if r: runs['lme4'] = [r]
        for k, v in runs.items():
            rows.append(dict(model=name, fitter=k, seconds=np.median([x[0] for x in v]),
                             **{'CPU s': np.median([x[1] for x in v])}, evaluations=v[0][2], criterion=v[0][3]))
    R = pd.DataFrame(rows)
    for name, *_ in MODELS:
        sub = R.model == name
        for col, ratio in (('seconds', 'time / mixednb'), ('CPU s', 'CPU / mixednb')):
            R.loc[sub, ratio] = R.loc[sub, col] / R.loc[sub & (R.fitter == 'mixednb'), col].iloc[0]
    with pd.option_context('display.float_format', '{:.6g}'.format):
        print(R.to_string(index=False))


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
