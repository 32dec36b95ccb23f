"""122 generated ill-conditioned problems (benchmarks/optimum.py's generator: SDs 0–10, correlations ±0.99, σ from 1e-4,
predictor scales 1e-3–1e3 with offsets up to 1e4, vector, `||`, crossed and nested terms), each fitted with lme4 once
(tests/reference/illcond/make_lme4_refs.R). mixednb must end at or below lme4's criterion (1e-8 relative), or say that
it did not (a note that the optimum is not verified, or a clear error). Issue 9's target is no silent miss. Measured
with the default optimizer: all 122 at or below lme4 (before the X/y block's refinement, 02's "Digits lost to
cancellation": 120, 1 flagged 2e-4 above, 1 silent 3e-5 above; before the QR basis for X, problems 37, 78 and 104
ended in "cannot be factored in the data's own scale"). Before issue 9 (BOBYQA from lme4's start, no conditioning,
no check) 13 ended above lme4, the worst by 141%.

Issue 9's "where it ends below, it says nothing alarming": none of the 122 says "did not reach a verified optimum"
(5 did before the restarts worked in coordinates scaled to θ, `verify_and_restart` in 02c: problems 12, 23, 37, 97
and 104, σ from 4e-10 to 5e-4, θ up to 1.5e9; 37 now ends 0.18 lower than then). Problem 97 (`(1 | g/h)` by ML, 15
g:h cells in 16 rows) has no optimum at all: X and the g:h intercepts span the 16 rows, so the ML deviance falls
without bound as σ → 0 (a 150-digit evaluation: by 2 log 10 per decade of θ, −74.4 at θ = 1e15), and the fit says that
instead. `test_unbounded_ml_is_named` finds such problems from the ranks, independently of the package."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from mixednb import LinearMixedModel, MixedModelError, MixedModelWarning

DIR = Path(__file__).parent / 'reference' / 'illcond'
FITS = {f['problem']: f for f in json.loads((DIR / 'lme4_fits.json').read_text())['fits']}
PROBLEMS = json.loads((DIR / 'problems.json').read_text())


def outcome(p, data):
    """('below' | 'flagged' | 'error' | 'silent', relative gap to lme4, whether the fit said its optimum is not verified,
    whether it said the ML criterion has no minimum)."""
    ref = FITS[p['problem']]['criterion']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        try: m = LinearMixedModel(p['formula'], data, REML=p['REML']).fit()
        except MixedModelError as e:
            assert 'cannot be factored' in str(e) or 'not finite' in str(e), e
            return 'error', np.nan, False, False
    gap = (m.objective - ref) / max(1.0, abs(ref))
    alarm = any('did not reach a verified optimum' in n for n in m.notes)
    unbounded = any('the ML criterion has no minimum' in n for n in m.notes)
    if gap <= 1e-8: return 'below', gap, alarm, unbounded
    return ('flagged' if alarm else 'silent'), gap, alarm, unbounded


@pytest.fixture(scope='module')
def results():
    allp = pd.read_csv(DIR / 'problems.csv.gz')
    return {p['problem']: outcome(p, allp[allp.problem == p['problem']].drop(columns='problem').reset_index(drop=True)) for p in PROBLEMS}


def test_never_silently_above_lme4(results):
    res = results
    kinds = pd.Series({k: v[0] for k, v in res.items()})
    silent = {k: v[1] for k, v in res.items() if v[0] == 'silent'}
    assert len(res) >= 100
    assert (kinds == 'below').sum() == len(res), kinds.value_counts()
    assert not silent, silent
    alarmed = [k for k, v in res.items() if v[0] == 'below' and v[2]]
    assert not alarmed, alarmed


def interpolates(p, data):
    """Whether X and some set of the formula's terms (all of a term's columns) span the rows while the terms alone do
    not: the ML deviance then falls without bound as σ → 0 (see 03_fit, "An ML criterion without a minimum")."""
    import itertools, re
    n, rhs = len(data), p['formula'].split('~')[1]
    col = lambda c: np.ones(n) if c == '1' else data[c].to_numpy(float)
    X = np.column_stack([col(c.strip()) for c in ['1'] + rhs.split('(')[0].split('+') if c.strip()])
    def dummies(grp):
        codes = data[grp].astype(str) if '/' not in grp else data.g.astype(str) + ':' + data.h.astype(str)
        return pd.get_dummies(codes).to_numpy(float)
    Zs = []
    for expr, bars, grp in re.findall(r'\(([^|]+?)\s*(\|\|?)\s*([^)]+?)\)', rhs):
        cols = ['1'] + [c.strip() for c in expr.split('+') if c.strip() != '1']
        groups = [grp] if '/' not in grp else ['g', grp]           # g/h: (1 | g) + (1 | g:h)
        for gr in groups:
            D = dummies(gr)
            parts = [D * col(c)[:, None] for c in cols]
            Zs += [np.hstack(parts)] if bars == '|' else parts     # x || g: one term per column
    for k in range(1, len(Zs) + 1):
        for S in itertools.combinations(Zs, k):
            ZS = np.hstack(S)
            if np.linalg.matrix_rank(np.hstack([X, ZS])) == n and np.linalg.matrix_rank(ZS) < n: return True
    return False


def test_unbounded_ml_is_named(results):
    "Exactly the ML problems whose ML deviance has no minimum (by the ranks, computed here) say so."
    allp = pd.read_csv(DIR / 'problems.csv.gz')
    expect = {p['problem'] for p in PROBLEMS if not p['REML'] and
              interpolates(p, allp[allp.problem == p['problem']].drop(columns='problem').reset_index(drop=True))}
    said = {k for k, v in results.items() if v[3]}
    assert expect == said, (expect, said)
    assert expect                                        # the set has such a problem (97)


@pytest.mark.parametrize('k', [21, 23, 37])
def test_check_convergence_agrees_with_the_fit(k):
    """check_convergence (numerical Hessian, in the basis the fit optimized) agrees with a fit that verified its optimum:
    on these (θ up to 7.8e7, σ down to 1e-4) derivatives in the data's θ predicted decreases of 1e-4 to 3e-3 where slow
    BOBYQA runs find nothing 4e-10 relative lower. Not 104 (θ to 1.5e9): its smallest eigenvalue, 0.11, is within what
    the gradient's rounding moves a difference of it (another helper's run saw it negative)."""
    p = next(q for q in PROBLEMS if q['problem'] == k)
    allp = pd.read_csv(DIR / 'problems.csv.gz')
    data = allp[allp.problem == k].drop(columns='problem').reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        m = LinearMixedModel(p['formula'], data, REML=p['REML']).fit()
    assert m.optsum['converged']
    c = m.check_convergence()
    assert c['converged'], (c['predicted_decrease'], c['hessian_eigenvalues'])
    assert abs(c['criterion'](c['u']) - m.objective) <= 1e-9 * max(1.0, abs(m.objective))
