"""Parametric bootstrap of the sleep study, `nsim` replicates: mixednb's `bootstrap`, mixedlm's `bootstrap_lmer` and
lme4's `bootMer`, in the same run, serially and with 2 processes; CPU and wall time per replicate, as ratios to
mixednb's serial time. mixedlm and R are used when present, never required.

Like with like: the same model and number of replicates, each refit started at the fitted θ (lme4's `refit`, mixedlm's
`start=theta`, mixednb's `boot_start`) and its optimum checked as each package checks a fit; one BLAS (and OpenMP,
rayon) thread everywhere, set in the environment before anything loads. The statistic: mixednb's default `pars`
(SDs, correlation, σ, β: computed from θ, σ and β), mixedlm's fixed (β, θ, σ), lme4's `fn` (θ, σ, β). The serial
rows are repeated `reps` times, the packages interleaved, and the median shown (the machine is shared: read the
ratios). CPU time is the process's (Python: `time.process_time`; R: user + system) plus that of its finished child
processes (the 2-process rows).

    python benchmarks/bootstrap.py [nsim] [reps] [serial]    # default 200 replicates, 3 repeats; serial: no 2-process rows
    PYTHONPATH=. /work/scratch/mlmvenv/bin/python benchmarks/bootstrap.py 200 3     # with mixedlm

With 2 processes, mixedlm's workers are started by a forkserver, not by this process, so their CPU time is not
counted (its CPU column there is the parent's only); lme4's `multicore` children and mixednb's forked workers are."""
import os
for _v in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'RAYON_NUM_THREADS'): os.environ[_v] = '1'
import resource, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np, pandas as pd
from mixednb import lmer, load

MODEL = ('sleepstudy', "Reaction ~ Days + (Days | Subject)")

def _clock():
    "(wall, CPU of this process and of its finished children) now."
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + ch.ru_utime + ch.ru_stime

def _timed(run):
    "(wall s, CPU s, failed) of run(), which returns the number of failed replicates."
    w, c = _clock(); failed = run(); w2, c2 = _clock()
    return w2 - w, c2 - c, failed

def mixednb_boot(data, f, nsim, n_jobs):
    m = lmer(f, data)
    return _timed(lambda: int(m.bootstrap(nsim, seed=1, progress=False, n_jobs=n_jobs).attrs['failed']))

def mixedlm_boot(data, f, nsim, n_jobs):
    import mixedlm
    from mixedlm.inference.bootstrap import bootstrap_lmer
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):
        r = mixedlm.lmer(f, data)
        return _timed(lambda: int(getattr(bootstrap_lmer(r, n_boot=nsim, seed=1, n_jobs=n_jobs), 'n_failed', 0)))

def lme4_boot(name, f, nsim, ncpus):
    "(wall s, CPU s, failed) of lme4's bootMer (θ, σ, β) in one R process, after the model is fitted; None without R."
    if not shutil.which('Rscript'): return None
    with tempfile.TemporaryDirectory() as d:
        load(name).to_csv(f"{d}/x.csv", index=False)
        par = '' if ncpus == 1 else f', parallel = "multicore", ncpus = {ncpus}'
        code = (f"suppressMessages(library(lme4)); d <- read.csv('{d}/x.csv', stringsAsFactors=TRUE); d$Subject <- factor(d$Subject); "
                f"m <- lmer({f}, d); fn <- function(x) c(getME(x, 'theta'), sigma(x), fixef(x)); "
                f"t <- system.time(b <- bootMer(m, fn, nsim = {nsim}, seed = 1{par})); "
                f"cat(t[['elapsed']], sum(t[c('user.self', 'sys.self', 'user.child', 'sys.child')], na.rm = TRUE), "
                f"sum(apply(is.na(b$t), 1, any)), '\\n')")
        out = subprocess.run(['Rscript', '-e', code], capture_output=True, text=True, timeout=3600, env=os.environ)
    if out.returncode != 0 or not out.stdout.strip(): return None
    w, c, failed = out.stdout.split()[:3]
    return float(w), float(c), int(failed)

def main(nsim=200, reps=3, serial=False):
    warnings.simplefilter('ignore')
    name, f = MODEL
    data = load(name)
    try: import mixedlm; have_mlm = True
    except ImportError: have_mlm = False
    runs = {}
    for _ in range(reps):                                   # serial rows, interleaved
        runs.setdefault(('mixednb', 1), []).append(mixednb_boot(data, f, nsim, 1))
        if have_mlm: runs.setdefault(('mixedlm', 1), []).append(mixedlm_boot(data, f, nsim, 1))
    r = lme4_boot(name, f, nsim, 1)
    if r: runs[('lme4 bootMer', 1)] = [r]
    if not serial:
        runs[('mixednb', 2)] = [mixednb_boot(data, f, nsim, 2)]
        if have_mlm: runs[('mixedlm', 2)] = [mixedlm_boot(data, f, nsim, 2)]
        r = lme4_boot(name, f, nsim, 2)
        if r: runs[('lme4 bootMer', 2)] = [r]
    rows = [dict(fitter=k, processes=p, runs=len(v), wall_s=np.median([x[0] for x in v]), cpu_s=np.median([x[1] for x in v]),
                 failed=max(x[2] for x in v)) for (k, p), v in runs.items()]
    R = pd.DataFrame(rows)
    R['wall ms/rep'], R['cpu ms/rep'] = 1000 * R.wall_s / nsim, 1000 * R.cpu_s / nsim
    R['wall / mixednb'], R['cpu / mixednb'] = R.wall_s / R.wall_s.iloc[0], R.cpu_s / R.cpu_s.iloc[0]
    print(f"{nsim} parametric bootstrap replicates of {name}: {f}  (os.cpu_count() = {os.cpu_count()}, "
          f"load {os.getloadavg()[0]:.1f}; serial rows: median of {reps})")
    print(R.drop(columns=['wall_s', 'cpu_s']).to_string(index=False, float_format=lambda x: f"{x:.3g}"))

if __name__ == '__main__':
    main(*(int(a) for a in sys.argv[1:3]), serial='serial' in sys.argv[3:])
