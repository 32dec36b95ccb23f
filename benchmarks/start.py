"""Where should the optimizer start? lme4's start (θ = the identity, in the conditioned basis) against a moment start
(mixedlm starts from something like it), on `optimum.py`'s generated family plus a few named models: evaluations, CPU
time, and how often each lands above the best optimum either reached.

    python benchmarks/start.py [N] [lo] [hi]      # N generated problems (default 60); the moment start clipped to [lo, hi]

The moment start, per term from the blocks the fit already has (conditioned basis): the OLS residual r = y − Xβ₀
(the shifted y of `Blocks`), σ² = r'r/(n − p); per level ℓ with an invertible Z_ℓ'Z_ℓ, b_ℓ = (Z_ℓ'Z_ℓ)⁻¹Z_ℓ'r; then
θ_jj = sqrt(max(var_ℓ(b_ℓj) − σ²·mean_ℓ((Z_ℓ'Z_ℓ)⁻¹)_jj, 0))/σ clipped to [lo, hi], correlations 0. It only replaces
`fit`'s `_start` here (monkeypatched); the package keeps lme4's start (see benchmarks/README.md, "Where to start").
"""
import sys, time, warnings
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, pandas as pd
import mixednb.fit as F
from mixednb import LinearMixedModel, MixedModelError, load
from optimum import problem
from double_bar import generated

LO, HI = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1, float(sys.argv[3]) if len(sys.argv) > 3 else 10.0

def moment_start(A):
    n, p = A.n, A.p
    s2 = A.xx[-1, -1] / max(n - p, 1)
    if not s2 > 0: return None
    out = []
    for t, D, M in zip(A.terms, A.diag, A.xz):
        pt, l = t.p, t.nlev
        s = M[-1].reshape(l, pt)
        det = np.linalg.det(D)
        ok = det > 1e-10 * np.maximum(np.trace(D, axis1=1, axis2=2), 1e-300) ** pt
        th = np.full(pt, LO)
        if ok.sum() > 2:
            Di = np.linalg.inv(D[ok])
            b = (Di @ s[ok][:, :, None])[:, :, 0]
            v = b.var(axis=0, ddof=1) - s2 * np.diagonal(Di, axis1=1, axis2=2).mean(0)
            th = np.clip(np.sqrt(np.maximum(v, 0) / s2), LO, HI)
        lam = np.diag(th)
        out.append(lam.T[np.triu_indices(pt)])                          # θ: λ's lower triangle, column by column
    return np.concatenate(out)

orig_start = F._start
def start_moments(self, start, cond):
    if start is not None: return orig_start(self, start, cond)
    A = self._cond[1] if cond is not None and getattr(self, '_cond', None) else self.A      # the blocks the optimizer works on
    th = moment_start(A)
    return orig_start(self, None, cond) if th is None else np.maximum(th, self.design.theta_lower)

def fit(form, df, reml, mode):
    F._start = start_moments if mode == 'moments' else orig_start
    m = LinearMixedModel(form, df, REML=reml)
    t = time.process_time()
    try: m.fit(control=dict(maxeval=20_000))
    except MixedModelError: return np.nan, np.nan, np.nan, np.nan
    finally: F._start = orig_start
    return m.objective, m.optsum['feval'], m.optsum['geval'], time.process_time() - t

def cases(N):
    for seed in range(N):
        yield f"seed{seed}", *problem(seed)
    yield 'sleepstudy', "Reaction ~ Days + (Days | Subject)", load('sleepstudy'), True
    yield 'sleepstudy ML', "Reaction ~ Days + (Days | Subject)", load('sleepstudy'), False
    yield 'gen (x|g)', "y ~ x + (x | g)", generated(), True
    yield 'gen (x|g)+(x|h)', "y ~ x + (x | g) + (x | h)", generated(), True
    yield 'gen (x||g)', "y ~ x + (x || g)", generated(), True
    yield 'Dyestuff', "Yield ~ 1 + (1 | Batch)", load('Dyestuff'), True
    yield 'Penicillin', "diameter ~ 1 + (1 | plate) + (1 | sample)", load('Penicillin'), True
    yield 'Pastes', "strength ~ 1 + (1 | batch/cask)", load('Pastes'), True

warnings.simplefilter('ignore')
rows = []
for name, form, df, reml in cases(int(sys.argv[1]) if len(sys.argv) > 1 else 60):
    try: LinearMixedModel(form, df, REML=reml)
    except MixedModelError: continue
    r = dict(case=name, formula=form)
    for mode in ('lme4', 'moments'):
        r[mode], r[mode + '_f'], r[mode + '_g'], r[mode + '_s'] = fit(form, df, reml, mode)
    r['best'] = min(r['lme4'], r['moments'])
    rows.append(r); print('.', end='', flush=True, file=sys.stderr)
R = pd.DataFrame(rows)
tol = np.maximum(1e-6, 1e-8 * R.best.abs())
for mode in ('lme4', 'moments'):
    gap = R[mode] - R.best
    print(f"{mode:8s} above best: {(gap > tol).sum()}  worst gap {gap.max():.3g}  evaluations median {R[mode+'_f'].median()} sum f {R[mode+'_f'].sum():.0f} g {R[mode+'_g'].sum():.0f}  CPU s {R[mode+'_s'].sum():.2f}")
print(R[['case', 'formula', 'lme4_f', 'moments_f', 'lme4', 'moments']].tail(8).to_string())
bad = R[(R.lme4 - R.best > tol) | (R.moments - R.best > tol)]
print(bad[['case', 'formula', 'lme4', 'moments', 'best']].to_string())
