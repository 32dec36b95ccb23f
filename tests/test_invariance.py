"""What the mathematics promises, on a broad generated family (issue 9): the optimum criterion does not depend on how
a slope's predictor is scaled and shifted, on the units and origin of y, on the order of the rows, or on the labels
of the levels, except by the exact shift each change implies.

The family: intercept-only, correlated and `||` slopes, crossed and nested terms; SDs from 0 to 10, correlations
near ±1, σ from 1e-4 to 10; the transformed predictor scaled by 1e-3 to 1e3 and shifted by up to 1e4 (and by at most
1e5 of its own SDs: beyond that lme4's rank check, a QR with tolerance 1e-7 that mixednb copies, drops the column and
the model changes). `||` terms are shifted by nothing: the model without a correlation is not invariant to the
predictor's origin. Each property runs 200 examples with a fixed seed (hypothesis, derandomized).

A pair of fits passes when the two optimum criteria agree within 1e-8 relative after the exact shift, whatever the
fits say about themselves: no failures are allowed, flagged or not (a fit that says it is not verified, `FLAGS`,
is named in the message). Measured (4 × 200): before the optimum check learnt a singular term's compressed factor
and a vanished term's negative curvature (02c), 1 flagged disagreement; after it, none; after the new first-term
products (02), one in `affine x`: 1.2e-5 (2.9e-8 relative) on a `(1 | g/h)` of 40 rows, θ ≈ 1.9e4. Until then up to
10 flagged disagreements per property were allowed. On 2026-11-26, before the X/y block was refined (02_objective,
"Digits lost to cancellation"), two pairs disagreed: `affine x` on a `(1 | g/h)` of 40 rows by REML, σ ≈ 6.6e-4,
θ ≈ (1870, 15449), 1.9e-6 apart (1.2e-8 relative), where the criterion itself was only known to 4e-6 (pwrss 4e-9 of
r'r; a 40-digit evaluation put the other fit's θ 2e-7 lower, not higher); and `affine y` on a `(x | g) + (1 | h)` of
128 rows by ML, σ ≈ 3e-3, 9.0e-4 apart (1.1e-6 relative), where L-BFGS-B's line searches ran into the criterion's
1e-7 noise and the restarts never moved θ₀ ≈ 1800 (one fit not verified). With the block refined, none: the largest
gap is 1.9e-9 relative; 9 of the 1600 fits say they are not verified (all agree with their pair within 2e-9).
Other samples of the same family (`benchmarks/invariance_pairs.py --seed N`, not part of this test) are not all
clean: with an unseeded sample, one pair of 800 (`(x | g) + (1 | h)` by ML, 45 rows, σ ≈ 1.7e-4, θ ≈ 4e4) ended
3.6e-4 apart, both fits not verified; the criterion there is right to 1e-9 (a 40-digit evaluation), but the
optimizers stall in a curved valley (a correlation within 3e-11 of 1 in the conditioned basis; the midpoint of the
two θ is 7e-4 below both). And where σ is barely separated (`(1 | g/h)` with about one row per g:h cell) the fits can
run to θ ≈ 5e7, where the log-determinant's downdates (not refined) lose every digit: an example hypothesis shrank to
(40 rows, ML, x → 1 − x) ends at 68.93 and 66.42, where a 60-digit evaluation gives 70.65 and 70.28.

Later on 2026-11-26 (the criterion's precision at large θ): `--seed 3` had 4 disagreeing pairs of 800 (1.3e-8 to
6.7e-8 relative), `--seed 1` 2 (2.1e-8), `--seed 4` 1 (`(x || g)` of 192 rows by REML, 2.7e-8, both fits not
verified), `--seed 5` none. A 60-digit evaluation at each fit's θ̂ (benchmarks/criterion_hp.py) put our criterion off
by up to 1.6e-6 on the `(1 | g/h)` of 120 rows by ML (log|Λ'Z'ZΛ + I|: g's block downdated by its g:h cells), 1.8e-7
on a `(x | g) + (x | h)` of 24 rows (the factorization of g's block, eigenvalues 1 to 1e9) and 5.1e-5 on the
`(x || g)` (the X/y block, whose loss estimate read S's diagonal instead of its pivots, so it was not refined); the
`(1 | g/h)` pairs of seed 3 were the same point (60-digit gap 2.5e-10) reported 4.6e-7 apart. 02_objective now makes
a later term's diagonal block from the rows where the estimate calls for it (a QR of [R; U; I], `refined_factor`),
estimates the X/y block's loss on its pivots, factors the refined X/y block by a QR of [R; U] and refines U once:
every fit's criterion above agrees with the 60-digit value to 4e-11 (tests/test_precision.py, also at 1000θ). Then:
`--seed 1` none, `--seed 2` none, `--seed 4` none, `--seed 5` none, `--seed 6` 2 (an `(x || g)` of 8 rows by ML,
σ̂ ≈ 1e-6, 1.4e-7 and 1.7e-7 apart: the same kind of plateau as below, both criteria exact to 2e-14), `--seed 3` 2.
What is left, seed 3's `(x | g) + (x | h)` of 24 rows by REML (σ̂ ≈ 7e-6), row order and level labels, 8.7e-7 and
1.3e-6 apart (1.3e-8 and 2.0e-8 relative), is not rounding:
both criteria agree with the 60-digit values to 6e-14, and the fits are different points of a σ plateau whose
infimum is at θ → ∞ (64.3510380508): one fit ends at θ up to 3.3e5, 9.5e-9 above it, the others at θ ≈ 3e4, 9e-7
and 1.3e-6 above, with scaled gradients 7e-6 and 9e-5, which the optimum check (02c) accepts."""
import warnings
import numpy as np, pandas as pd, pytest
from hypothesis import given, settings, strategies as st, HealthCheck

from mixednb import LinearMixedModel, MixedModelError, MixedModelWarning

FORMS = ["y ~ x + (1 | g)", "y ~ x + (x | g)", "y ~ x + (x || g)", "y ~ x + (x | g) + (1 | h)",
         "y ~ x + (1 | g) + (1 | h)", "y ~ x + (1 | g/h)", "y ~ x + (x | g) + (x | h)"]


@st.composite
def problems(draw):
    "(formula, data, REML) from the family."
    seed = draw(st.integers(0, 2 ** 32 - 1))
    form = draw(st.sampled_from(FORMS))
    sd = [draw(st.sampled_from([0.0, 0.01, 0.3, 1.0, 3.0, 10.0])) for _ in range(3)]
    rho = draw(st.sampled_from([-0.99, -0.5, 0.0, 0.5, 0.99]))
    sigma = 10 ** draw(st.floats(-4, 1))
    rng = np.random.default_rng(seed)
    ng, nh, per = int(rng.integers(4, 30)), int(rng.integers(3, 12)), int(rng.integers(2, 10))
    n = ng * per
    g = np.repeat(np.arange(ng), per)
    h = rng.integers(0, nh, n)
    x = rng.normal(size=n)
    S = np.array([[sd[0] ** 2, rho * sd[0] * sd[1]], [rho * sd[0] * sd[1], sd[1] ** 2]])
    b = rng.multivariate_normal([0, 0], S, size=ng, method='eigh')
    c = rng.normal(size=(ng, nh)) * sd[2]
    y = 1 + 0.5 * x + b[g, 0] + b[g, 1] * x + c[g, h] + sigma * rng.normal(size=n)
    df = pd.DataFrame(dict(y=y, x=x, g=[f"g{i}" for i in g], h=[f"h{i}" for i in h]))
    return form, df, draw(st.booleans())


def fit(form, df, reml):
    "(criterion, whether the fit said it did not reach a verified optimum), or None where the model is refused."
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always', MixedModelWarning)
        try: m = LinearMixedModel(form, df, REML=reml).fit()
        except MixedModelError: return None
    return m.objective, any(any(s in str(x.message) for s in FLAGS) for x in w), m


FLAGS = ('verified optimum', 'evaluation limit', 'do not separate the residual variance')


def check(name, base, other, shift):
    "Assert the two optima agree after `shift` (within 1e-8 relative), flagged or not."
    if base is None or other is None:
        assert base is None and other is None, f"{name}: one fit refused, the other not"
        return
    gap = other[0] - shift - base[0]
    if abs(gap) <= 1e-8 * max(1.0, abs(base[0])): return
    said = ' and '.join(w for w, r in (('the first', base), ('the second', other)) if r[1]) or 'neither'
    raise AssertionError(f"{name}: optimum moved by {gap:+.3e} (criterion {base[0]:.10g}); {said} fit said it may be off")


SETTINGS = settings(max_examples=200, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(p=problems(), log_s=st.floats(-3, 3), sign=st.sampled_from([-1.0, 1.0]), t=st.floats(-1e4, 1e4))
def test_affine_predictor(p, log_s, sign, t):
    "x → s·x + t: the REML criterion moves by 2 log|s| (from R_X), the deviance not at all."
    form, df, reml = p
    s = sign * 10 ** log_s
    t = 0.0 if '||' in form else float(np.clip(t, -1e5 * abs(s), 1e5 * abs(s)))
    base, other = fit(form, df, reml), fit(form, df.assign(x=s * df.x + t), reml)
    check('affine x', base, other, 2 * np.log(abs(s)) if reml else 0.0)


@SETTINGS
@given(p=problems(), log_a=st.floats(-3, 3), sign=st.sampled_from([-1.0, 1.0]), b=st.floats(-1e4, 1e4))
def test_affine_response(p, log_a, sign, b):
    "y → a·y + b: the criterion moves by 2ν log|a|, ν = n − p (REML) or n (ML)."
    form, df, reml = p
    a = sign * 10 ** log_a
    base, other = fit(form, df, reml), fit(form, df.assign(y=a * df.y + b), reml)
    nu = len(df) - (2 if reml else 0)
    check('affine y', base, other, 2 * nu * np.log(abs(a)))


@SETTINGS
@given(p=problems(), seed=st.integers(0, 2 ** 32 - 1))
def test_row_order(p, seed):
    "Any permutation of the rows: the same optimum."
    form, df, reml = p
    shuffled = df.sample(frac=1, random_state=np.random.RandomState(seed % 2 ** 32)).reset_index(drop=True)
    check('row order', fit(form, df, reml), fit(form, shuffled, reml), 0.0)


@SETTINGS
@given(p=problems(), seed=st.integers(0, 2 ** 32 - 1))
def test_level_labels(p, seed):
    "New labels for the levels of both grouping factors (in another sort order): the same optimum."
    form, df, reml = p
    rng = np.random.default_rng(seed)
    relabel = {c: dict(zip(sorted(df[c].unique()), rng.permutation([f"L{rng.integers(1e9)}_{i}" for i in range(df[c].nunique())])))
               for c in ('g', 'h')}
    other = df.assign(g=df.g.map(relabel['g']), h=df.h.map(relabel['h']))
    check('level labels', fit(form, df, reml), fit(form, other, reml), 0.0)
