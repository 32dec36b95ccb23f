"""How often each fitting strategy lands on the best known optimum, over a generated family of problems that nobody
tuned for: vector and `||` slopes, crossed and nested terms, SDs from 0 to 10, correlations near ±1, σ from 1e-4 to 10,
predictor scales 1e-3 to 1e3 with offsets up to 1e4, REML and ML.

    python benchmarks/optimum.py [N]      # N problems (default 60); prints one table

Strategies: `plain` is BOBYQA from lme4's start with nothing else (mixednb before issue 9); `conditioned` adds the
centred and scaled basis; `bobyqa+check` adds the verified optimum and restarts; `default` is what `lmer` does
(optimizer='auto': L-BFGS-B with the exact gradient first where the gradient is cheap, which is every problem here).
A fit that stops with a clear error counts as neither below nor above (NaN). The best
known optimum of a problem is the lowest criterion any strategy reached, including a slow reference run (BOBYQA with a
small initial step from the default's optimum). A strategy fails on a problem when it ends more than 1e-8 relative
(and 1e-6 absolute) above it."""
import sys, time, warnings
import numpy as np, pandas as pd
from mixednb import LinearMixedModel, MixedModelError

def problem(seed):
    "One generated problem: (formula, data, REML)."
    rng = np.random.default_rng(seed)
    ng, nh = int(rng.integers(4, 40)), int(rng.integers(3, 15))
    per = int(rng.integers(2, 12)); n = ng * per
    g = np.repeat(np.arange(ng), per); h = rng.integers(0, nh, n)
    sx, ox = 10 ** rng.uniform(-3, 3), rng.choice([0, 0, rng.uniform(-1e4, 1e4)])
    x = rng.normal(size=n) * sx + ox; z = rng.normal(size=n)
    sd = rng.choice([0.0, 0.01, 0.3, 1, 3, 10], size=4); rho = rng.choice([-0.99, -0.5, 0, 0.5, 0.99])
    sigma = 10 ** rng.uniform(-4, 1)
    S = np.array([[sd[0] ** 2, rho * sd[0] * sd[1]], [rho * sd[0] * sd[1], sd[1] ** 2]])
    b = rng.multivariate_normal([0, 0], S, size=ng, method='eigh')
    xs = (x - ox) / sx
    y = 1 + 0.5 * xs + b[g, 0] + b[g, 1] * xs + sd[2] * rng.normal(size=nh)[h] + sigma * rng.normal(size=n)
    df = pd.DataFrame(dict(y=y, x=x, z=z, g=[f"g{i}" for i in g], h=[f"h{i}" for i in h]))
    form = rng.choice(["y ~ x + (x | g)", "y ~ x + (x | g) + (1 | h)", "y ~ x + (x || g)", "y ~ x + z + (1 | g) + (1 | h)",
                       "y ~ x + (x | g) + (x | h)", "y ~ x + (1 | g/h)", "y ~ x + (x + z | g)"])
    return str(form), df, bool(rng.integers(0, 2))

STRATEGIES = {'plain': ('bobyqa', dict(conditioning=False, check=False)), 'conditioned': ('bobyqa', dict(check=False)),
              'bobyqa+check': ('bobyqa', {}), 'default': ('auto', {})}

def run(N):
    rows = []
    for seed in range(N):
        form, df, reml = problem(seed)
        try: LinearMixedModel(form, df, REML=reml)
        except MixedModelError: continue
        out = dict(seed=seed, formula=form, REML=reml)
        for name, (opt, ctl) in STRATEGIES.items():
            m = LinearMixedModel(form, df, REML=reml)
            t = time.perf_counter()
            try: m.fit(optimizer=opt, control=dict(ctl, maxeval=20_000))
            except MixedModelError: out[name] = out[f'{name}_n'] = np.nan; continue
            finally: out[f'{name}_s'] = time.perf_counter() - t
            out[name], out[f'{name}_n'] = m.objective, m.optsum['feval']
        try: ref = LinearMixedModel(form, df, REML=reml).fit(optimizer='bobyqa', start=m.theta, control=dict(initial_step=0.05, check=False, maxeval=20_000)).objective
        except MixedModelError: ref = np.nan
        out['best'] = np.nanmin([out[k] for k in STRATEGIES] + [ref])
        rows.append(out)
        print('.', end='', flush=True, file=sys.stderr)
    return pd.DataFrame(rows)

if __name__ == '__main__':
    warnings.simplefilter('ignore')
    R = run(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
    gap = lambda k: R[k] - R.best
    fail = lambda k: (gap(k) > np.maximum(1e-6, 1e-8 * R.best.abs())).sum()
    table = pd.DataFrame({k: {'problems': len(R), 'errors': R[k].isna().sum(), 'above best optimum': fail(k), 'worst gap': gap(k).max(),
                              'median evaluations': R[f'{k}_n'].median(), 'total seconds': R[f'{k}_s'].sum()} for k in STRATEGIES})
    print(); print(table.to_string())
    bad = R[gap('default') > np.maximum(1e-6, 1e-8 * R.best.abs())]
    if len(bad): print('\ndefault above the best optimum:\n', bad[['seed', 'formula', 'REML', 'default', 'best']].to_string())
