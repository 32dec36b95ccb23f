"""Benchmark: the Dask path (mixednb.dask) on crossed `y ~ x + (1|a) + (1|b)`, a: 10,000 levels, b: 1,000 levels,
from Parquet on a LocalCluster, against the in-memory fit where that fits.

    python benchmarks/dask_scale.py                   # n = 1e6 and 1e7
    python benchmarks/dask_scale.py 1e6 1e7 1e8       # any sizes
    python benchmarks/dask_scale.py --memory 1e6 1e7  # which sizes also fit in memory (default: n ≤ 1e7)

The Parquet files (1e6 rows each, made once and kept) go to $MIXEDNB_BENCH_DIR (default /tmp/mixednb_dask_scale).
Each measurement runs in a fresh process, so that its peak resident memory (ru_maxrss) is its own: the Dask driver's
(the workers are two other processes, 1 thread each, 4 GiB each) and the in-memory fit's. Each process has an address
space limit ($MIXEDNB_BENCH_LIMIT_GB, default 10), so a path that runs out of memory says so instead of taking the
machine with it (the limit is on address space, which a large numpy allocation takes in full when it is asked
for, so a path can stop with its resident peak well below the limit). Prints per n: the Parquet size, the levels pass and the sums pass (seconds, rows/s of both
together), the size of A (stored numbers), the driver's peak memory after the sums and at the end, the fit after
the sums (the first factorization, the optimizer), and the in-memory fit (design + fit) with its peak memory and
the difference of the two criteria. The machines are shared and noisy: compare figures of one run with each other.
"""
import json, os, resource, subprocess, sys, time
from pathlib import Path

import numpy as np

FORMULA = "y ~ x + (1|a) + (1|b)"
NA, NB, CHUNK = 10_000, 1_000, 1_000_000
DIR = Path(os.environ.get('MIXEDNB_BENCH_DIR', '/tmp/mixednb_dask_scale'))
LIMIT_GB = float(os.environ.get('MIXEDNB_BENCH_LIMIT_GB', 10))


def write_parquet(n):
    "The n rows as Parquet files of 1e6 rows each (made once): a, b int32 codes, x, y float64."
    import pandas as pd
    d = DIR / f"n{n:.0e}"
    if (d / '_done').exists(): return d
    d.mkdir(parents=True, exist_ok=True)
    u, v = np.random.default_rng(0).normal(size=NA), np.random.default_rng(1).normal(size=NB)
    for k in range(0, n, CHUNK):
        rng = np.random.default_rng(1000 + k // CHUNK)
        m = min(CHUNK, n - k)
        a, b, x = rng.integers(0, NA, m, dtype=np.int32), rng.integers(0, NB, m, dtype=np.int32), rng.normal(size=m)
        y = 1 + 0.5 * x + u[a] + 0.7 * v[b] + rng.normal(size=m)
        pd.DataFrame({'a': a, 'b': b, 'x': x, 'y': y}).to_parquet(d / f"part{k // CHUNK:05d}.parquet", index=False)
    (d / '_done').touch()
    return d


def _limit():
    "An address-space limit for this process (an out-of-memory path raises MemoryError instead of swamping the machine)."
    b = int(LIMIT_GB * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (b, b))


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_dask(n):
    "One Dask measurement in this process; prints a JSON line."
    import warnings; warnings.simplefilter('ignore')
    from distributed import Client, LocalCluster
    import mixednb.dask as D
    out = dict(path='dask', n=n)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit='4GiB', dashboard_address=':0') as cl, Client(cl) as c:
        import dask.dataframe as dd
        c.run(lambda: __import__('mixednb.dask'))                     # the workers' imports are not the passes' time
        _limit()
        ddf = dd.read_parquet(str(write_parquet(n)), columns=['a', 'b', 'x', 'y'])
        made = D.dask_design
        def dask_design(*a, **k):                                     # the two passes: their times, A's size, the peak
            d, cp, r = made(*a, **k)
            out.update(levels_s=r.seconds['levels'], sums_s=r.seconds['sums'], peak_after_sums_mb=_peak_mb(),
                       A_numbers=int(sum(x.size for x in cp.diag) + sum(x.nnz for x in cp.off.values()) + sum(x.size for x in cp.zxy)))
            return d, cp, r
        D.dask_design = dask_design
        t0 = time.perf_counter()
        try:
            m = D.DaskLinearMixedModel(FORMULA, ddf)
            t1 = time.perf_counter()
            out['setup_s'] = t1 - t0 - out['levels_s'] - out['sums_s']                 # blocks and the factor at θ₀
            m.fit()
            out.update(fit_s=time.perf_counter() - t1, feval=m.optsum['feval'], objective=m.objective, theta=list(m.theta))
        except MemoryError:
            out['stopped'] = f"MemoryError at {LIMIT_GB:g} GiB (after {time.perf_counter() - t0:.0f} s)"
        except Exception as e:
            out['stopped'] = f"{type(e).__name__}: {str(e)[:200]}"
    out['peak_mb'] = _peak_mb()
    print(json.dumps(out), flush=True)


def run_memory(n):
    "One in-memory measurement in this process; prints a JSON line."
    import warnings; warnings.simplefilter('ignore')
    import pandas as pd
    from mixednb import lmer
    d = write_parquet(n)
    _limit()
    out, t0 = dict(path='memory', n=n), time.perf_counter()
    try:
        df = pd.read_parquet(d)
        t1 = time.perf_counter()
        m = lmer(FORMULA, df)
        out.update(read_s=t1 - t0, fit_s=time.perf_counter() - t1, feval=m.optsum['feval'], objective=m.objective, theta=list(m.theta))
    except MemoryError:
        out['stopped'] = f"MemoryError at {LIMIT_GB:g} GiB (after {time.perf_counter() - t0:.0f} s)"
    out['peak_mb'] = _peak_mb()
    print(json.dumps(out), flush=True)


def _child(kind, n):
    r = subprocess.run([sys.executable, __file__, f'--run-{kind}', str(n)], capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l.startswith('{')]
    if lines: return json.loads(lines[-1])
    return dict(path=kind, n=n, stopped=f"process ended ({r.returncode}): {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}"[:200])


def main():
    args = sys.argv[1:]
    if args and args[0] in ('--run-dask', '--run-memory'):
        return (run_dask if args[0] == '--run-dask' else run_memory)(int(float(args[1])))
    mem = None
    if '--memory' in args:
        i = args.index('--memory'); mem = [int(float(a)) for a in args[i + 1:]]; args = args[:i]
    sizes = [int(float(a)) for a in args] or [10 ** 6, 10 ** 7]
    mem = [n for n in sizes if n <= 10 ** 7] if mem is None else mem
    print(f"{FORMULA}: a {NA} levels, b {NB} levels; Parquet files of {CHUNK:.0e} rows; LocalCluster 2 workers × 1 thread; "
          f"{os.cpu_count()} cores; address-space limit {LIMIT_GB:g} GiB per process")
    for n in sizes:
        t = time.perf_counter(); d = write_parquet(n)
        size = sum(f.stat().st_size for f in d.glob('*.parquet')) / 2 ** 20
        print(f"\nn = {n:.0e}: Parquet {size:,.0f} MB ({time.perf_counter() - t:.0f} s to make or find)", flush=True)
        r = _child('dask', n)
        if 'levels_s' in r:
            acc = r['levels_s'] + r['sums_s']
            print(f"  dask   levels pass {r['levels_s']:7.1f} s, sums pass {r['sums_s']:7.1f} s: {n / acc:12,.0f} rows/s; "
                  f"A {r['A_numbers'] / 1e6:.2f}M numbers; driver peak {r['peak_after_sums_mb']:,.0f} MB after the sums")
        if 'fit_s' in r:
            print(f"         then blocks + factor at θ₀ {r['setup_s']:6.1f} s, fit {r['fit_s']:7.1f} s ({r['feval']} evaluations); "
                  f"driver peak {r['peak_mb']:,.0f} MB; criterion {r['objective']:.6f}", flush=True)
        if 'stopped' in r:
            where = 'after the sums (making the blocks, the factor at θ₀ or the fit)' if 'levels_s' in r else 'during the passes'
            print(f"         stopped {where}: {r['stopped']}; driver peak {r['peak_mb'] if 'peak_mb' in r else float('nan'):,.0f} MB", flush=True)
        if n in mem:
            s = _child('memory', n)
            if 'fit_s' in s:
                diff = abs(s['objective'] - r['objective']) / abs(s['objective']) if 'objective' in r else float('nan')
                print(f"  memory read {s['read_s']:6.1f} s, design + fit {s['fit_s']:7.1f} s ({s['feval']} evaluations); peak {s['peak_mb']:,.0f} MB; "
                      f"|criterion − dask's| / criterion = {diff:.1e}", flush=True)
            else: print(f"  memory stopped: {s['stopped']}; peak {s.get('peak_mb', float('nan')):,.0f} MB", flush=True)


if __name__ == '__main__':
    main()
