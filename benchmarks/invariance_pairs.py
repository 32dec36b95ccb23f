"""Every pair of fits of tests/test_invariance.py's four properties (affine x, affine y, row order, level labels), with
what each fit said about itself: one table of the pairs whose optima differ by more than 1e-8 relative (formula, REML,
rows, the two criteria, evaluations, gradients, restarts, converged, largest scaled gradient, notes), then counts per
property (pairs, disagreements, fits not verified, fits with a note in test_invariance.FLAGS, evaluations).

    python benchmarks/invariance_pairs.py [x y row lab] [--seed N] [--save bad.pkl]   # default: all four, the test's fixed examples

--seed N draws another sample of the same family (hypothesis not derandomized, seeded with N); --save writes the
disagreeing pairs (with both data frames, θ̂ and σ̂) to a pickle, for benchmarks/criterion_mp.py's high-precision check.

Measured on 2026-11-26 (2 cores shared, ~1.5 min per property): the test's examples, 800 pairs: none disagree (largest
gap 1.9e-9 relative), 9 fits not verified; before the X/y block was refined (02_objective), 2 disagreed. --seed 1:
2 pairs of 800 disagree by 2.1e-8 relative (one `(1 | g/h)` of 44 rows in 43 cells by REML, rows reordered and
levels relabelled: both fits say σ is not determined; see 02c, "σ against the random effects"). --seed 2: none.
--seed 3: 4 pairs (two problems, each in row order and level labels), 1.3e-8 to 6.7e-8 relative: a `(x | g) + (x | h)`
of 24 rows, σ ≈ 7e-5, θ up to 5e4, on the σ plateau (both fits say so; a 40-digit evaluation puts the further point
6e-7 lower), and a `(1 | g/h)` of 120 rows by ML, σ ≈ 9e-5, where the two fits end at the same θ (to 1e-6) and the
same 40-digit criterion, but the computed ones differ by 5e-7 (3e-8 of |criterion| = 14.5): the rounding of the
log-determinant's downdates, which are not refined. An unseeded sample had one pair 3.6e-4 apart (`(x | g) + (1 | h)`
by ML, σ ≈ 1.7e-4, both fits not verified: the optimizers stall in a curved valley).

Later on 2026-11-26, with the random-effects blocks and the X/y block refined further (02_objective, "The random-effects
blocks"; every disagreeing fit's criterion checked against benchmarks/criterion_hp.py's 60 digits, to 4e-11): --seed 1
none (was 2), --seed 2 none, --seed 3 2 (was 4), --seed 4 none (was 1: an `(x || g)` of 192 rows whose X/y block
was 5e-5 off), --seed 5 none, --seed 6 2. The four left are σ plateaus, not rounding: seed 3's `(x | g) + (x | h)`
of 24 rows by REML (8.7e-7 and 1.3e-6 apart) and seed 6's `(x || g)` of 8 rows by ML (1.4e-7 and 1.7e-7): both
fits' criteria agree with the 60-digit values to 6e-14, and the fits end on the same plateau (the criterion falls
toward θ → ∞), one at θ ~10× the other's and 10⁻⁷–10⁻⁶ lower. On a tree of main at d99494e (restarts in scaled
coordinates, 02c) with this branch's objective.py, seeds 1 to 6: none (main alone: seed 3 three, the two `(1 | g/h)`
rounding pairs among them, seed 1 one, seed 6 one)."""
import sys, time
from pathlib import Path
import numpy as np, pandas as pd
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tests'))
import test_invariance as T

PROPS = dict(x=T.test_affine_predictor, y=T.test_affine_response, row=T.test_row_order, lab=T.test_level_labels)


def property_test(which, seed=None):
    "The property's test: the test's own (fixed examples), or with `seed` another sample of the same family."
    fn = PROPS[which]
    if seed is None: return fn
    from hypothesis import given, seed as with_seed
    inner, strategies = fn.hypothesis.inner_test, fn.hypothesis._given_kwargs     # the same strategies, not derandomized
    return with_seed(seed)(settings(T.SETTINGS, derandomize=False)(given(**strategies)(inner)))


def run(which, seed=None):
    "The records of one property's pairs."
    fits, recs = [], []
    fit, check = T.fit, T.check
    def rec_fit(form, df, reml):
        r = fit(form, df, reml); fits.append((form, df, reml, r)); return r
    def rec_check(name, base, other, shift):
        (form, df, reml, b), o = fits[-2], fits[-1][3]
        gap = None if b is None or o is None else o[0] - shift - b[0]
        row = dict(property=name, formula=form, REML=reml, n=len(df), gap=gap,
                   rel=np.nan if gap is None else abs(gap) / max(1.0, abs(b[0])), data1=df, data2=fits[-1][1])
        for k, r in (('1', b), ('2', o)):
            if r is None: continue
            s = r[2].optsum
            row.update({f'crit{k}': r[0], f'feval{k}': s['feval'], f'geval{k}': s['geval'], f'restarts{k}': s['restarts'],
                        f'converged{k}': s['converged'], f'flagged{k}': r[1],
                        f'scaled{k}': np.nan if s['scaled_gradient'] is None else float(np.max(np.abs(s['scaled_gradient']), initial=0.0)),
                        f'notes{k}': ' | '.join(n[:70] for n in r[2].notes),
                        f'theta{k}': np.asarray(r[2].theta, float).copy(), f'sigma{k}': float(r[2].sigma)})
        recs.append(row)
    T.fit, T.check = rec_fit, rec_check
    try: property_test(which, seed)()
    finally: T.fit, T.check = fit, check
    return recs


def main(args):
    seed = int(args[args.index('--seed') + 1]) if '--seed' in args else None
    save = args[args.index('--save') + 1] if '--save' in args else None
    which = [a for a in args if a in PROPS] or list(PROPS)
    recs = []
    for w in which:
        t = time.perf_counter(); recs += run(w, seed)
        print(f"{w}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    R = pd.DataFrame(recs)
    bad = R[R.rel > 1e-8]
    if save: bad.to_pickle(save)            # the disagreeing pairs with their data, θ̂ and σ̂, for a high-precision check
    pd.set_option('display.width', 250); pd.set_option('display.max_colwidth', 80)
    cols = ['property', 'formula', 'REML', 'n', 'gap', 'rel', 'crit1', 'feval1', 'geval1', 'restarts1', 'converged1', 'scaled1',
            'feval2', 'geval2', 'restarts2', 'converged2', 'scaled2', 'sigma1', 'theta1', 'theta2', 'notes1', 'notes2']
    print(f"pairs whose optima differ by more than 1e-8 relative: {len(bad)}")
    if len(bad): print(bad[[c for c in cols if c in bad]].to_string(index=False))
    g = R.groupby('property')
    out = pd.DataFrame(dict(pairs=g.size(), disagree=g.rel.apply(lambda r: int((r > 1e-8).sum())), max_rel=g.rel.max(),
                            not_verified=g.apply(lambda d: int((d.converged1 == False).sum() + (d.converged2 == False).sum())),
                            flagged=g.apply(lambda d: int(d.flagged1.fillna(False).sum() + d.flagged2.fillna(False).sum())),
                            evaluations=g.apply(lambda d: int(d.feval1.sum() + d.feval2.sum()))))
    print(out.to_string())


if __name__ == '__main__':
    main(sys.argv[1:])
