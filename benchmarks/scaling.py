"""The crossed scaling series of issue 11: `y ~ x + (1|a) + (1|b)` in memory, mixednb against mixedlm.

Cases (name: rows, levels of a, levels of b):

    n1e5  10⁵ rows, a 10k, b 1k        n5e6  5·10⁶ rows, a 10k, b 1k
    n1e6  10⁶ rows, a 10k, b 1k        n1e7  10⁷ rows, a 10k, b 1k
    b20k  10⁶ rows, a 10k, b 20k       b50k  10⁶ rows, a 10k, b 50k

Each (fitter, case) runs once in a fresh process under an address-space limit (`--limit GiB`, default 10) so that a
path that needs more memory stops with a MemoryError instead of taking the machine; and under a wall-time limit
(`--timeout s`, default 1200: "skip where it would take more than 20 minutes"). The child makes the data itself
(`shapes.crossed`, the same seed for both fitters), then times design + fit: wall seconds and the process's CPU seconds
(`time.process_time`, less sensitive to the load of a shared machine), the evaluations, the criterion and the
process's peak RSS (data, interpreter and imports included). One BLAS thread for both fitters. The load average is
printed with every row: compare the fitters within one run.

mixednb also reports the kind of the later terms' block its factor used (`dense` LAPACK or `sparse`, see
`mixednb.sparse_block`) and its size.

    python benchmarks/scaling.py [case ...] [--limit GiB] [--timeout s] [--only mixednb|mixedlm]"""
import json, os, resource, subprocess, sys, tempfile, time, warnings
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

CASES = {'n1e5': (100_000, 10_000, 1_000), 'n1e6': (1_000_000, 10_000, 1_000), 'n5e6': (5_000_000, 10_000, 1_000),
         'n1e7': (10_000_000, 10_000, 1_000), 'b20k': (1_000_000, 10_000, 20_000), 'b50k': (1_000_000, 10_000, 50_000)}
FORMULA = "y ~ x + (1 | a) + (1 | b)"


def _mixednb(data):
    from mixednb import LinearMixedModel
    m = LinearMixedModel(FORMULA, data).fit()
    out = dict(evaluations=m.optsum['feval'], criterion=float(m.objective))
    try:
        from mixednb.objective import update_L
        from mixednb.sparse_block import SparseFactor
        A = getattr(m, 'A', None)
        if A is not None:
            L = update_L(A, np.asarray(m.theta, float))
            out['later block'] = f"{'sparse' if isinstance(L[1, 1], SparseFactor) else 'dense'} {L[1, 1].shape[0]}"
    except Exception as e: out['later block'] = f"? ({type(e).__name__})"
    return out


def _mixedlm(data):
    import mixedlm
    r = mixedlm.lmer(FORMULA, data)
    return dict(evaluations=int(r.function_evals), criterion=float(r.REMLcrit()))


def one(fitter, case, limit_gib):
    "In a child process: the limit, the data, one timed fit; a JSON line."
    b = int(limit_gib * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (b, b))
    from threadpoolctl import threadpool_limits
    from shapes import crossed
    warnings.simplefilter('ignore')
    n, na, nb = CASES[case]
    data = crossed(n, na=na, nb=nb)
    fit = {'mixednb': _mixednb, 'mixedlm': _mixedlm}[fitter]
    with threadpool_limits(1):
        t, c = time.perf_counter(), time.process_time()
        out = fit(data)
        out.update(seconds=time.perf_counter() - t, cpu_seconds=time.process_time() - c)
    out['peak_MB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def _child(cmd, env, timeout):
    "Run cmd; its JSON line, or an error (the last line of its stderr, or the timeout)."
    with tempfile.TemporaryFile('w+') as out, tempfile.TemporaryFile('w+') as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **env})
        try: p.wait(timeout)
        except subprocess.TimeoutExpired: p.kill(); p.wait(); return dict(error=f"stopped after {timeout} s (time limit)")
        out.seek(0); err.seek(0)
        if p.returncode != 0:
            lines = [l for l in err.read().strip().splitlines() if l.strip()]
            return dict(error=(lines[-1] if lines else f"exit code {p.returncode}")[:160])
        return json.loads(out.read().strip().splitlines()[-1])


def _mixedlm_python():
    for py in (os.environ.get('MIXEDLM_PYTHON'), '/work/scratch/mlmvenv/bin/python'):
        if py and os.path.exists(py) and subprocess.run([py, '-c', 'import mixedlm'], capture_output=True).returncode == 0: return py
    return None


def main(cases, limit, timeout, only=None):
    env = {'PYTHONPATH': os.pathsep.join([os.path.dirname(HERE), os.environ.get('PYTHONPATH', '')]),
           'OPENBLAS_NUM_THREADS': '1', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}
    pythons = {'mixednb': sys.executable, 'mixedlm': _mixedlm_python()}
    rows = []
    for case in cases:
        res = {}
        for fitter, py in pythons.items():
            if py is None or (only and fitter != only): continue
            load0 = os.getloadavg()[0]
            r = _child([py, __file__, '--one', fitter, case, str(limit)], env, timeout)
            r.update(case=case, fitter=fitter, load=f"{load0:.1f}–{os.getloadavg()[0]:.1f}")
            res[fitter] = r; rows.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
        if 'criterion' in res.get('mixednb', {}) and 'criterion' in res.get('mixedlm', {}):
            a, b = res['mixednb']['criterion'], res['mixedlm']['criterion']
            res['mixedlm']['rel. diff.'] = abs(a - b) / abs(b)
            res['mixedlm']['time / mixednb'] = res['mixedlm']['seconds'] / res['mixednb']['seconds']
    cols = ['case', 'fitter', 'seconds', 'cpu_seconds', 'evaluations', 'criterion', 'peak_MB', 'later block',
            'time / mixednb', 'rel. diff.', 'load', 'error']
    print(' | '.join(cols))
    for r in rows:
        print(' | '.join('' if r.get(c) is None else (f"{r[c]:.6g}" if isinstance(r[c], float) and c != 'criterion'
                                                     else (f"{r[c]:.10f}" if c == 'criterion' else str(r[c]))) for c in cols))


if __name__ == '__main__':
    a = sys.argv[1:]
    if a[:1] == ['--one']: one(a[1], a[2], float(a[3]))
    else:
        opt = {}
        for k in ('--limit', '--timeout', '--only'):
            if k in a: i = a.index(k); opt[k] = a[i + 1]; del a[i:i + 2]
        main(a or list(CASES), float(opt.get('--limit', 10)), float(opt.get('--timeout', 1200)), opt.get('--only'))
