"""122 generated ill-conditioned problems (benchmarks/optimum.py's generator: SDs 0–10, correlations ±0.99, σ from 1e-4,
predictor scales 1e-3–1e3 with offsets up to 1e4, vector, `||`, crossed and nested terms), each fitted with lme4 once
(tests/reference/illcond/make_lme4_refs.R). mixednb must end at or below lme4's criterion (1e-8 relative), or say that
it did not (a note that the optimum is not verified, or a clear error). Issue 9's target is no silent miss. Measured
with the default optimizer: all 122 at or below lme4 (before the X/y block's refinement, 02's "Digits lost to
cancellation": 120, 1 flagged 2e-4 above, 1 silent 3e-5 above; before the QR basis for X, problems 37, 78 and 104
ended in "cannot be factored in the data's own scale"). Before issue 9 (BOBYQA from lme4's start, no conditioning,
no check) 13 ended above lme4, the worst by 141%.

Not yet issue 9's "where it ends below, it says nothing alarming": 5 problems (12, 23, 37, 97, 104: σ from 4e-10 to
5e-4, θ up to 1.5e9, all far below lme4's criterion) end with "did not reach a verified optimum". On 37 and 104 that is
true (a slow BOBYQA run from the fit's end goes 0.011 and 5.6e-5 lower); on 12, 23 and 97 the slow run finds nothing
lower (1e-6 at most), so the note is a false alarm of the gradient check at these scales. The test holds that count
at most 5, so that it can only get better."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from mixednb import LinearMixedModel, MixedModelError, MixedModelWarning

DIR = Path(__file__).parent / 'reference' / 'illcond'
FITS = {f['problem']: f for f in json.loads((DIR / 'lme4_fits.json').read_text())['fits']}
PROBLEMS = json.loads((DIR / 'problems.json').read_text())


def outcome(p, data):
    "('below' | 'flagged' | 'error' | 'silent', relative gap to lme4, whether the fit said its optimum is not verified)."
    ref = FITS[p['problem']]['criterion']
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        try: m = LinearMixedModel(p['formula'], data, REML=p['REML']).fit()
        except MixedModelError as e:
            assert 'cannot be factored' in str(e) or 'not finite' in str(e), e
            return 'error', np.nan, False
    gap = (m.objective - ref) / max(1.0, abs(ref))
    alarm = any('did not reach a verified optimum' in n for n in m.notes)
    if gap <= 1e-8: return 'below', gap, alarm
    return ('flagged' if alarm else 'silent'), gap, alarm


def test_never_silently_above_lme4():
    allp = pd.read_csv(DIR / 'problems.csv.gz')
    res = {p['problem']: outcome(p, allp[allp.problem == p['problem']].drop(columns='problem').reset_index(drop=True)) for p in PROBLEMS}
    kinds = pd.Series({k: v[0] for k, v in res.items()})
    silent = {k: v[1] for k, v in res.items() if v[0] == 'silent'}
    assert len(res) >= 100
    assert (kinds == 'below').sum() == len(res), kinds.value_counts()
    assert not silent, silent
    alarmed = [k for k, v in res.items() if v[0] == 'below' and v[2]]
    assert len(alarmed) <= 5, alarmed
