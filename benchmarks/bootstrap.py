"""Wall time per parametric-bootstrap replicate: mixednb serially and with 2 processes (`n_jobs=2`), lme4's `bootMer`
(serial, and `parallel = "multicore", ncpus = 2`) and mixedlm's `bootstrap_lmer` (serial and `n_jobs=2`), in the same
run, as ratios to mixednb's serial time. mixedlm and R are used when present, never required. BLAS is kept at one
thread everywhere. The machine is shared: read the ratios, and run it twice.

    python benchmarks/bootstrap.py [nsim]        # default 200 replicates of the sleep study
    PYTHONPATH=. /work/scratch/mlmvenv/bin/python benchmarks/bootstrap.py 200     # with mixedlm"""
import os, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np, pandas as pd
from mixednb import lmer, load

MODEL = ('sleepstudy', "Reaction ~ Days + (Days | Subject)")

def mixednb_boot(data, f, nsim, n_jobs):
    m = lmer(f, data)
    t = time.perf_counter(); B = m.bootstrap(nsim, seed=1, progress=False, n_jobs=n_jobs); t = time.perf_counter() - t
    return t, int(B.attrs['failed'])

def mixedlm_boot(data, f, nsim, n_jobs):
    import mixedlm
    from mixedlm.inference.bootstrap import bootstrap_lmer
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        r = mixedlm.lmer(f, data)
        t = time.perf_counter(); b = bootstrap_lmer(r, n_boot=nsim, seed=1, n_jobs=n_jobs); t = time.perf_counter() - t
    return t, int(getattr(b, 'n_failed', 0))

def lme4_boot(name, f, nsim, ncpus):
    "Seconds of lme4's bootMer (pars as statistic: θ, σ, β) in one R process, after the model is fitted."
    if not shutil.which('Rscript'): return None
    with tempfile.TemporaryDirectory() as d:
        load(name).to_csv(f"{d}/x.csv", index=False)
        par = '' if ncpus == 1 else f', parallel = "multicore", ncpus = {ncpus}'
        code = (f"suppressMessages(library(lme4)); d <- read.csv('{d}/x.csv', stringsAsFactors=TRUE); d$Subject <- factor(d$Subject); "
                f"m <- lmer({f}, d); fn <- function(x) c(getME(x, 'theta'), sigma(x), fixef(x)); "
                f"t <- system.time(b <- bootMer(m, fn, nsim = {nsim}, seed = 1{par}))[['elapsed']]; cat(t, '\\n')")
        out = subprocess.run(['Rscript', '-e', code], capture_output=True, text=True, timeout=3600,
                             env={**os.environ, 'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'})
    return (float(out.stdout.split()[0]), 0) if out.returncode == 0 and out.stdout.strip() else None

def main(nsim=200):
    warnings.simplefilter('ignore')
    name, f = MODEL
    data, rows = load(name), []
    for jobs in (1, 2):
        t, failed = mixednb_boot(data, f, nsim, jobs)
        rows.append(dict(fitter='mixednb', processes=jobs, seconds=t, failed=failed))
    try:
        for jobs in (1, 2):
            t, failed = mixedlm_boot(data, f, nsim, jobs)
            rows.append(dict(fitter='mixedlm', processes=jobs, seconds=t, failed=failed))
    except ImportError: pass
    for jobs in (1, 2):
        r = lme4_boot(name, f, nsim, jobs)
        if r: rows.append(dict(fitter='lme4 bootMer', processes=jobs, seconds=r[0], failed=r[1]))
    R = pd.DataFrame(rows)
    R['ms / replicate'] = 1000 * R.seconds / nsim
    R['time / mixednb serial'] = R.seconds / R.seconds.iloc[0]
    print(f"{nsim} parametric bootstrap replicates of {name}: {f}  (os.cpu_count() = {os.cpu_count()})")
    print(R.to_string(index=False, float_format=lambda x: f"{x:.3g}"))

if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
