"""Whole-fit time, evaluations and peak memory of mixednb, mixedlm and lme4 on every model shape of issue 11, in one run.

Each (fitter, model) runs in a fresh process, so that its peak resident memory (`ru_maxrss`, the interpreter and its
imports included) is its own; times are in-process medians of `repeats` fits after one warm-up fit (design included,
data already in memory), one BLAS thread for every fitter. mixedlm is used when a Python that imports it is found
(`MIXEDLM_PYTHON`, default /work/scratch/mlmvenv/bin/python, or this Python), lme4 when `Rscript` is on the PATH;
neither is required. The machine is shared and its load changes from minute to minute: compare ratios within one
run, not across runs; for the small models mixednb and mixedlm are also fitted alternately in one process (the
`alternated` columns), the fairest ratio on a loaded machine.

    python benchmarks/shapes.py [repeats] [model ...] [--no-lme4 MODEL,...]
        # default 3 repeats for the small models (mixednb and mixedlm; lme4: its median of `repeats` after a warm-up
        # on sleepstudy, one fit elsewhere), one fit for the big ones; all models

Models: sleepstudy, insteval3, insteval_dept, kb20, kb72, psycholing, psycholing_corr (the same data with `|` for
`||`), crossed1e5, crossed1e6."""
import json, os, shutil, subprocess, sys, tempfile, time, warnings
import numpy as np, pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))


def kb07_like(seed=1):
    """56 subjects × 32 items, each pair once (1792 rows), three two-level factors spkr, prec, load coded ±0.5 and
    counterbalanced (condition = (subject + item) mod 8: each varies within subjects and within items, as in kb07)."""
    r = np.random.default_rng(seed)
    s, i = (a.ravel() for a in np.meshgrid(np.arange(56), np.arange(32), indexing='ij'))
    cond = (s + i) % 8
    spkr, prec, load = (np.where((cond >> b) & 1, 0.5, -0.5) for b in range(3))
    Xr = np.column_stack([np.ones(len(s)), spkr, prec, load, spkr * prec, spkr * load, prec * load, spkr * prec * load])
    bs = r.normal(size=(56, 8)) * [300, 60, 80, 40, 30, 30, 30, 20]
    bi = r.normal(size=(32, 8)) * [350, 40, 150, 50, 30, 30, 30, 20]
    y = 2200 + Xr @ [0, 70, -330, 80, 20, 10, -20, 10] + (Xr * bs[s]).sum(1) + (Xr * bi[i]).sum(1) + r.normal(size=len(s)) * 700
    return pd.DataFrame(dict(rt=y, subj=[f"S{k:02d}" for k in s], item=[f"I{k:02d}" for k in i], spkr=spkr, prec=prec, load=load))


def psycholing(seed=2, ids=600, items=80, per_id=40):
    "600 participants × 40 of 80 items each (24,000 rows); stimulus and task two-level, ±0.5, varying within both."
    r = np.random.default_rng(seed)
    pid = np.repeat(np.arange(ids), per_id)
    item = np.concatenate([r.choice(items, per_id, replace=False) for _ in range(ids)])
    stim, task = r.choice([-0.5, 0.5], len(pid)), r.choice([-0.5, 0.5], len(pid))
    b = r.normal(size=(ids, 2)) * [0.5, 0.3]; c = r.normal(size=(items, 2)) * [0.4, 0.2]
    y = 1 + 0.3 * stim - 0.2 * task + b[pid, 0] + b[pid, 1] * stim + c[item, 0] + c[item, 1] * task + r.normal(size=len(pid))
    return pd.DataFrame(dict(y=y, id=[f"p{k}" for k in pid], item=[f"i{k}" for k in item], stimulus=stim, task=task))


def crossed(n, seed=3, na=10_000, nb=1_000):
    "n rows, a with 10k levels and b with 1k levels drawn at random (crossed), one covariate x."
    r = np.random.default_rng(seed)
    a, b, x = r.integers(0, na, n), r.integers(0, nb, n), r.normal(size=n)
    y = 1 + 0.5 * x + 0.8 * r.normal(size=na)[a] + 0.5 * r.normal(size=nb)[b] + r.normal(size=n)
    return pd.DataFrame(dict(y=y, x=x, a=pd.Categorical(a), b=pd.Categorical(b)))


def _load(name):
    from mixednb import load
    return load(name)

# name: (data maker, formula, big: one repeat)
MODELS = {
    'sleepstudy': (lambda: _load('sleepstudy'), "Reaction ~ Days + (Days | Subject)", False),
    'insteval3': (lambda: _load('InstEval'), "y ~ service + (1 | s) + (1 | d) + (1 | dept)", True),
    'insteval_dept': (lambda: _load('InstEval'), "y ~ service * dept + (1 | s) + (1 | d)", True),
    'kb20': (kb07_like, "rt ~ spkr * prec * load + (1 + spkr + prec + load | subj) + (1 + spkr + prec + load | item)", False),
    'kb72': (kb07_like, "rt ~ spkr * prec * load + (1 + spkr * prec * load | subj) + (1 + spkr * prec * load | item)", True),
    'psycholing': (psycholing, "y ~ stimulus + task + (stimulus || id) + (task || item)", False),
    'psycholing_corr': (psycholing, "y ~ stimulus + task + (stimulus | id) + (task | item)", False),
    'crossed1e5': (lambda: crossed(100_000), "y ~ x + (1 | a) + (1 | b)", True),
    'crossed1e6': (lambda: crossed(1_000_000), "y ~ x + (1 | a) + (1 | b)", True),
}


def _mixednb(data, f):
    from mixednb import LinearMixedModel
    t = time.perf_counter(); m = LinearMixedModel(f, data).fit(); t = time.perf_counter() - t
    return t, m.optsum['feval'], m.objective


def _mixedlm(data, f):
    import mixedlm
    t = time.perf_counter(); r = mixedlm.lmer(f, data); t = time.perf_counter() - t
    return t, int(r.function_evals), float(r.REMLcrit())


def one(fitter, name, repeats):
    "Run in a child process: warm-up fit, then `repeats` timed fits; print a JSON line."
    import resource
    from threadpoolctl import threadpool_limits
    warnings.simplefilter('ignore')
    make, f, big = MODELS[name]
    data = make()
    fit = {'mixednb': _mixednb, 'mixedlm': _mixedlm}[fitter]
    with threadpool_limits(1):
        runs = [fit(data, f)] if big else [fit(data, f) for _ in range(repeats + 1)][1:]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(seconds=float(np.median([r[0] for r in runs])), evaluations=runs[0][1], criterion=runs[0][2], peak_MB=peak)))


def interleaved(name, repeats):
    "Run in a child process that imports both: mixednb and mixedlm fits alternated, so both see the same load."
    from threadpoolctl import threadpool_limits
    warnings.simplefilter('ignore')
    make, f, big = MODELS[name]
    data, a, b = make(), [], []
    with threadpool_limits(1):
        _mixednb(data, f); _mixedlm(data, f)
        for _ in range(repeats):
            a.append(_mixednb(data, f)[0]); b.append(_mixedlm(data, f)[0])
    print(json.dumps(dict(mixednb=float(np.median(a)), mixedlm=float(np.median(b)))))


def _child(cmd, env=None, timeout=3600):
    "Run cmd; (its stdout, its own peak RSS in MB, or None on failure)."
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        t0 = time.time()
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid: break
            if time.time() - t0 > timeout: p.kill(); os.wait4(p.pid, 0); return None, None, 'timeout'
            time.sleep(0.05)
        out.seek(0); err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0: return None, None, err.read().strip().splitlines()[-1:] or ['failed']
        return out.read(), ru.ru_maxrss / 1024, None


def run_python(python, fitter, name, repeats):
    env = {'PYTHONPATH': os.pathsep.join([os.path.dirname(HERE), os.environ.get('PYTHONPATH', '')]),
           'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'}
    out, _, err = _child([python, __file__, '--one', fitter, name, str(repeats)], env)
    return json.loads(out.strip().splitlines()[-1]) if out else dict(error=str(err))


def run_lme4(name, repeats):
    if not shutil.which('Rscript'): return None
    make, f, big = MODELS[name]
    small = name == 'sleepstudy'                          # lme4 takes seconds to minutes elsewhere: one fit
    with tempfile.TemporaryDirectory() as d:
        make().to_csv(f"{d}/x.csv", index=False)
        reps = repeats if small else 1
        code = (f"suppressMessages(library(lme4)); d <- read.csv('{d}/x.csv', stringsAsFactors=TRUE); "
                + (f"m <- lmer({f}, d); " if small else "")
                + f"ts <- sapply(1:{reps}, function(i) system.time(m <<- lmer({f}, d))[['elapsed']]); "
                "cat(median(ts), m@optinfo$feval, format(getME(m, 'devcomp')$cmp[['REML']], digits = 15), '\\n')")
        out, peak, err = _child(['Rscript', '-e', code], {'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'})
    if out is None: return dict(error=str(err))
    t, n, crit = out.split()[-3:]
    return dict(seconds=float(t), evaluations=int(n), criterion=float(crit), peak_MB=peak)


def _mixedlm_python():
    for py in (os.environ.get('MIXEDLM_PYTHON'), '/work/scratch/mlmvenv/bin/python', sys.executable):
        if py and os.path.exists(py) and subprocess.run([py, '-c', 'import mixedlm'], capture_output=True).returncode == 0: return py
    return None


def main(repeats=3, names=None, no_lme4=()):
    names, mlm, rows = names or list(MODELS), _mixedlm_python(), []
    for name in names:
        res = {'mixednb': run_python(sys.executable, 'mixednb', name, repeats)}
        if mlm: res['mixedlm'] = run_python(mlm, 'mixedlm', name, repeats)
        r = None if name in no_lme4 else run_lme4(name, repeats)
        if r: res['lme4'] = r
        if mlm and not MODELS[name][2]:                   # small models: both fitters alternated in one process
            out, _, err = _child([mlm, __file__, '--interleaved', name, str(max(repeats, 5))],
                                 {'PYTHONPATH': os.pathsep.join([os.path.dirname(HERE), os.environ.get('PYTHONPATH', '')]),
                                  'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1'})
            if out:
                il = json.loads(out.strip().splitlines()[-1])
                res['mixednb']['alternated'] = il['mixednb']; res['mixedlm']['alternated'] = il['mixedlm']
        base = res['mixednb'].get('seconds')
        for k, v in res.items():
            row = dict(model=name, fitter=k, **{c: v.get(c) for c in ('seconds', 'evaluations', 'criterion', 'peak_MB')})
            row['time / mixednb'] = v['seconds'] / base if base and v.get('seconds') else None
            if 'alternated' in v:                          # seconds when alternated with the other fitter, and the ratio
                row['alternated s'] = v['alternated']
                row['alternated / mixednb'] = v['alternated'] / res['mixednb']['alternated']
            row['error'] = v.get('error', '')
            rows.append(row); print(json.dumps(row), flush=True, file=sys.stderr)
    R = pd.DataFrame(rows)
    with pd.option_context('display.width', 200, 'display.max_colwidth', 60):
        print(R.to_string(index=False, float_format=lambda x: f"{x:.4g}"))


if __name__ == '__main__':
    if sys.argv[1:2] == ['--one']: one(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ['--interleaved']: interleaved(sys.argv[2], int(sys.argv[3]))
    else:
        args, skip = sys.argv[1:], ()
        if '--no-lme4' in args: i = args.index('--no-lme4'); skip = args[i + 1].split(','); del args[i:i + 2]
        reps = int(args.pop(0)) if args and args[0].isdigit() else 3
        main(reps, args or None, skip)
