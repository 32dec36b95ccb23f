"""CPU time of a small whole fit (sleepstudy, `LinearMixedModel(formula, data).fit()`, design included), mixednb
against mixedlm fitted in turn in one process (both see the same load), and optionally against another checkout of
mixednb (worker processes, one per checkout, given batches in turn). CPU time (`time.process_time`), one BLAS thread.

    python benchmarks/smallfit.py [fits]                     # default 400: medians, mixedlm's when importable
    /work/scratch/mlmvenv/bin/python benchmarks/smallfit.py 400          # mixedlm's Python, this checkout on PYTHONPATH
    python benchmarks/smallfit.py 400 --ab /path/to/other/checkout      # before/after: per fit and per construction

Every fit spells the formula differently (spaces added), so that nothing kept per formula string could help: a
user's first fit of a formula costs what the benchmark's hundredth does."""
import json, os, subprocess, sys, time, warnings
import numpy as np

FORMULA, DATA = "Reaction ~ Days + (Days | Subject)", 'sleepstudy'

def spelling(i):
    "The formula with i spaces more around its '~' (the same model, another string)."
    return FORMULA.replace(' ~ ', ' ' * (1 + i % 50) + '~' + ' ' * (1 + i // 50 % 50))

def fits(n, what='fit', mixedlm=None):
    "CPU seconds per call: mixednb's (and mixedlm's, fitted in turn), after 10 warm-up fits each."
    from mixednb import LinearMixedModel, load
    from threadpoolctl import threadpool_limits
    d, a, b = load(DATA), [], []
    def ours(i):
        m = LinearMixedModel(spelling(i), d)
        if what == 'fit': m.fit(); m.objective, m.fixef
    with threadpool_limits(1):
        for i in range(10):
            ours(i)
            if mixedlm: mixedlm.lmer(FORMULA, d)
        for i in range(n):
            t = time.process_time(); ours(i); a.append(time.process_time() - t)
            if mixedlm:
                t = time.process_time(); mixedlm.lmer(FORMULA, d); b.append(time.process_time() - t)
    return np.array(a), np.array(b)

def worker(what):
    "Fits in batches asked for on stdin (`n` per line), their CPU times back as JSON lines."
    warnings.simplefilter('ignore')
    for line in sys.stdin: print(json.dumps(fits(int(line), what)[0].tolist()), flush=True)

def ab(n, other):
    "Medians per fit and per construction: `other` checkout against this one, batches of 25 alternated."
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for what in ('construct', 'fit'):
        ps = {k: subprocess.Popen([sys.executable, __file__, '--worker', what], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env={**os.environ, 'PYTHONPATH': p}) for k, p in (('other', other), ('this', here))}
        res = {k: [] for k in ps}
        for r in range(max(1, n // 25)):
            for k in (('other', 'this') if r % 2 == 0 else ('this', 'other')):
                ps[k].stdin.write('25\n'); ps[k].stdin.flush(); res[k] += json.loads(ps[k].stdout.readline())
        for p in ps.values(): p.stdin.close(); p.wait()
        o, t = np.median(res['other']), np.median(res['this'])
        rows.append(f"| {what} | {1e3 * o:.3f} | {1e3 * t:.3f} | {t / o:.3f} | {len(res['this'])} |")
    print(f"| CPU ms, median | {other} | this checkout | this / other | calls each |\n|---|---|---|---|---|\n" + '\n'.join(rows))

if __name__ == '__main__':
    args = sys.argv[1:]
    if args[:1] == ['--worker']: worker(args[1]); sys.exit()
    warnings.simplefilter('ignore')
    n = int(args[0]) if args and args[0].isdigit() else 400
    if '--ab' in args: ab(n, args[args.index('--ab') + 1]); sys.exit()
    try: import mixedlm
    except ImportError: mixedlm = None
    a, b = fits(n, 'fit', mixedlm)
    print(f"| CPU ms per sleepstudy fit ({n} each, alternated) | median | mean |\n|---|---|---|\n"
          f"| mixednb (construct + fit + β̂) | {1e3 * np.median(a):.3f} | {1e3 * a.mean():.3f} |")
    if mixedlm:
        print(f"| mixedlm `lmer` | {1e3 * np.median(b):.3f} | {1e3 * b.mean():.3f} |\n"
              f"| mixedlm / mixednb | {np.median(b) / np.median(a):.3f} | {b.mean() / a.mean():.3f} |")
