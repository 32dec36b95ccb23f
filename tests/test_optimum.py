"""An optimum you can trust (issue 9, first part): the exact gradient against finite differences on every reference
model, the conditioned basis making the fit invariant to how a slope's predictor is scaled and shifted, the check that
steps off the boundary, the errors and notes, and start=/control=."""
import json, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest

from mixednb import lmer, load, LinearMixedModel, MixedModelError, MixedModelWarning
from mixednb.design import design
from mixednb.objective import Blocks, objective
from mixednb.gradient import gradient
from mixednb.optimum import check_optimum, Conditioning, Tracker, verify_and_restart

REF = Path(__file__).parent / 'reference'
REFS = sorted(p for p in REF.glob('*_reml.json')) + sorted(p for p in REF.glob('*_ml.json'))


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        return f(*a, **k)


def fd_gradient(A, th, reml, h=1e-6):
    E = np.eye(len(th))
    return np.array([(objective(A, th + h * e, reml) - objective(A, th - h * e, reml)) / (2 * h) for e in E])


@pytest.mark.parametrize('path', REFS, ids=[p.stem for p in REFS])
def test_gradient_matches_finite_differences_on_reference_models(path):
    r = json.loads(path.read_text())
    d = design(r['formula'], load(r['data']))
    A, reml = Blocks(d), bool(r.get('REML', 'reml' in path.stem))
    rng = np.random.default_rng(len(path.stem))
    th = np.where(d.theta_lower == 0, rng.uniform(0.1, 2.0, len(d.theta0)), rng.normal(size=len(d.theta0)))
    fd = fd_gradient(A, th, reml) if d.q < 1000 else None
    g = gradient(A, th, reml)
    if fd is not None: np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-5 * max(1, np.abs(fd).max()))
    else:                                                             # InstEval: one component, central differences
        e = np.zeros(len(th)); e[0] = 1e-5
        assert g[0] == pytest.approx((objective(A, th + e, reml) - objective(A, th - e, reml)) / 2e-5, rel=1e-4)


def test_gradient_on_the_boundary_and_for_three_terms():
    rng = np.random.default_rng(7)
    n = 400
    df = pd.DataFrame(dict(g=rng.integers(0, 30, n).astype(str), h=rng.integers(0, 9, n).astype(str), k=rng.integers(0, 5, n).astype(str),
                           x=rng.normal(size=n), z=rng.normal(size=n)))
    df['y'] = df.x + rng.normal(size=n) + df.g.astype(int) * 0.05
    for f in ["y ~ x + (x | g) + (1 | h) + (x + z | k)", "y ~ x + z + (1 | g) + (x | h) + (1 | k)"]:
        d = design(f, df); A = Blocks(d)
        for reml in (True, False):
            th = np.where(d.theta_lower == 0, rng.uniform(0.2, 1.0, len(d.theta0)), rng.normal(size=len(d.theta0)))
            th[0] = 0.0
            fd = fd_gradient(A, th, reml)
            np.testing.assert_allclose(gradient(A, th, reml), fd, rtol=1e-5, atol=1e-5 * max(1, np.abs(fd).max()))


# --- invariance to the scale and shift of a slope's predictor ------------------------------------------------------

@pytest.mark.parametrize('scale,shift', [(1.0, 2000.0), (1000.0, 0.0), (0.001, 5.0), (-3.0, 100.0)])
def test_sleepstudy_slope_predictor_rescaled(scale, shift):
    "Days → s·Days + t in (Days | Subject): the REML optimum moves by exactly 2 log|s| (from R_X), nothing else."
    sl = load('sleepstudy')
    m0 = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl)
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl.assign(Days=scale * sl.Days + shift))
    assert m.objective - 2 * np.log(abs(scale)) == pytest.approx(m0.objective, rel=1e-9)
    assert m.optsum['converged'] and m.sigma == pytest.approx(m0.sigma, rel=1e-6)
    assert m.fixef['Days'] * scale == pytest.approx(m0.fixef['Days'], rel=1e-6)
    sd = lambda mm: mm.varcorr.set_index(['grp', 'var1']).sdcor[('Subject', 'Days')]
    assert sd(m) * abs(scale) == pytest.approx(sd(m0), rel=1e-4)           # a flat direction: θ to ~1e-5


def test_conditioning_maps_theta_both_ways_and_keeps_the_criterion():
    sl = load('sleepstudy')
    d = design("Reaction ~ Days + (Days | Subject)", sl.assign(Days=sl.Days * 37 + 2000))
    c = Conditioning(d)
    A, Ac = Blocks(d), Blocks(c.design())
    for th in ([1.0, 0.0, 1.0], [0.3, -0.8, 0.05], [2.0, 0.5, 0.0]):
        assert objective(Ac, th) == pytest.approx(objective(A, c.to_user(th)), rel=1e-10)
        np.testing.assert_allclose(c.to_conditioned(c.to_user(th)), th, atol=1e-10)


# --- the check steps off the boundary ---------------------------------------------------------------------------------

def test_saddle_on_the_boundary_is_found_and_left():
    """L-BFGS-B alone stops here at θ = [0.5616, 0.1728, 0, 0, 0, 0] (criterion 1753.30): the last diagonal element of
    a λ has derivative 0 at 0, so the first-order conditions hold; stepping off the bound shows the criterion falls."""
    d = design("Reaction ~ Days + (Days | Subject) + (Days | Days)", load('sleepstudy'))
    A = Blocks(d)
    f, g = (lambda th: objective(A, th)), (lambda th: gradient(A, th))
    saddle = np.array([0.5616, 0.1728, 0.0, 0.0, 0.0, 0.0])
    chk = check_optimum(f, g, saddle, d.theta_lower)
    assert abs(chk['gradient'][2]) < 1e-12 and not chk['ok'] and chk['better'] is not None
    tr = Tracker(f, g)
    x, rec = verify_and_restart(tr, saddle, d.theta_lower)
    assert rec['converged'] and tr.best[0] < 1743.63 < f(saddle) - 9


def _singular_saddle_problem():
    "benchmarks/optimum.py's seed 31: `(x + z | g)` by REML, x with mean −1606 and SD 0.024 (66,000 SDs from 0)."
    rng = np.random.default_rng(31)
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
    return pd.DataFrame(dict(y=y, x=x, z=z, g=[f"g{i}" for i in g]))


def test_singular_term_checked_in_its_compressed_factor():
    """A singular 3×3 term can stop where λ's first column is 0 and the second carries the loading: the gradient in
    the first column is then 0 by construction, and the point passed the check 0.336 above the optimum. The fit must
    reach what a slow BOBYQA run (small steps, from the fit's end and from lme4's start) reaches, or lower."""
    df = _singular_saddle_problem()
    m = quiet(lambda: LinearMixedModel("y ~ x + (x + z | g)", df).fit())
    slow = min(quiet(lambda s: LinearMixedModel("y ~ x + (x + z | g)", df).fit(
        optimizer='bobyqa', start=s, control=dict(initial_step=0.05, check=False, maxeval=20_000)).objective, s)
        for s in (m.theta, None))
    assert m.objective <= slow + 1e-8 * abs(slow)
    assert m.optsum['converged']



def test_singular_term_checked_with_its_loading_in_the_vanished_column():
    """The same problem's saddle in a third form: λ₁₁ = 0 with the rank-1 loading spread over columns 1 and 2 (a
    rotation of the first form, the same Σ and criterion, a zero gradient in λ₁₁, no zero column to compress). A
    β₀ computed another way once left the fit there, 0.336 above the optimum, with every check passed. From that
    point, verify_and_restart must reach the optimum of the slow BOBYQA runs of the test above."""
    from scipy.optimize import minimize
    from mixednb.gradient import criterion_and_gradient
    df = _singular_saddle_problem()
    m = quiet(lambda: LinearMixedModel("y ~ x + (x + z | g)", df))
    cond, Ac = m._conditioned(True)
    f, g = criterion_and_gradient(Ac, True)
    c, s = np.cos(0.5), np.sin(0.5)
    spread = lambda v: np.array([0, -c * v[0], -c * v[1], s * v[0], s * v[1], 0])       # columns 1 and 2 both carry v
    v = minimize(lambda v: f(spread(v)), [0.1, 0.1], method='Nelder-Mead', options=dict(xatol=1e-10, fatol=1e-12)).x
    x0 = spread(v)
    assert abs(f(x0) - 605.6563) < 1e-3                                    # the saddle, 0.336 above the optimum
    assert check_optimum(f, g, x0, m.design.theta_lower)['ok']             # which the first-order check passes
    tr = Tracker(f, g)
    x, rec = verify_and_restart(tr, x0, m.design.theta_lower, terms=Ac.terms)
    assert tr.best[0] < 605.3200408 and rec['converged']

def test_vanished_vector_term_is_left_along_its_negative_curvature():
    """A generated `(x | g)` problem by ML (56 rows, from the invariance property's family): with y → 63.22·y + 9397.8
    the fit stopped at λ ≈ 0, where every derivative is 0, 0.0205 above the optimum y itself reaches. The two optima
    must agree after the exact shift 2n·log a."""
    df = pd.read_csv(Path(__file__).parent / 'reference' / 'vanished_term.csv')
    a = 90.2049279292712 / 1.426847669832868; b = 9436.616092074593 - a * 0.614239493698373
    m0 = quiet(lambda: LinearMixedModel("y ~ x + (x | g)", df, REML=False).fit())
    m1 = quiet(lambda: LinearMixedModel("y ~ x + (x | g)", df.assign(y=a * df.y + b), REML=False).fit())
    assert m1.objective - 2 * len(df) * np.log(a) == pytest.approx(m0.objective, rel=1e-10)
    np.testing.assert_allclose(m1.theta, m0.theta, atol=1e-5)
    assert np.abs(m0.theta).max() > 0.05


# --- errors, notes, start= and control= -----------------------------------------------------------------------------

def test_overflowing_response_is_a_clear_error():
    sl = load('sleepstudy')
    with np.errstate(all='ignore'), pytest.raises(MixedModelError, match=r"response 'Reaction' has values up to .*rescale it"):
        quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl.assign(Reaction=sl.Reaction * 1e300))


def test_unidentifiable_term_is_named():
    with pytest.warns(MixedModelWarning, match=r"\(1 \| Subject\): the criterion does not change with this term's variance"):
        m = lmer("Reaction ~ Days + Subject + (1 | Subject)", load('sleepstudy'))
    assert any('cannot identify' in n for n in m.notes)


def test_identifiable_fits_have_no_such_note():
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", load('sleepstudy'))
    assert m.optsum['converged'] and not any('identify' in n or 'verified' in n for n in m.notes)
    assert m.optsum['geval'] >= 1 and len(m.optsum['path']) == m.optsum['feval']


def test_start_from_a_converged_theta_takes_few_evaluations():
    sl = load('sleepstudy')
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl)
    m2 = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, start=m.theta)
    assert m2.optsum['feval'] <= 30 and m2.objective == pytest.approx(m.objective, rel=1e-10)
    with pytest.raises(MixedModelError, match='start must be 3 finite numbers'):
        lmer("Reaction ~ Days + (Days | Subject)", sl, start=[1.0, 2.0])


def test_control_settings():
    sl = load('sleepstudy')
    with pytest.raises(MixedModelError, match=r"unknown argument or control setting 'restart'.*restarts"):
        lmer("Reaction ~ Days + (Days | Subject)", sl, control={'restart': 3})
    with pytest.warns(MixedModelWarning, match='evaluation limit'):
        m = lmer("Reaction ~ Days + (Days | Subject)", sl, optimizer='bobyqa', control=dict(maxeval=5, check=False))
    assert m.optsum['converged'] is None
    plain = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, optimizer='bobyqa', control=dict(conditioning=False, check=False))
    assert plain.optsum['feval'] == 73 and not plain.optsum['conditioned']  # the previous default's 73 (the start's check is BOBYQA's first)


# --- property: any scale and shift of the slope's predictor, the same optimum -------------------------------------

from hypothesis import given, settings, strategies as st, HealthCheck

@settings(max_examples=100, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(log_scale=st.floats(-3, 3), sign=st.sampled_from([-1.0, 1.0]), rel_shift=st.floats(-1e3, 1e3), reml=st.booleans())
def test_affine_slope_predictor_property(log_scale, sign, rel_shift, reml):
    """x → s·x + t for the predictor of a random slope, s from 1e-3 to 1e3 and |t| up to 1000|s| (an offset of up to ~350
    of the new predictor's SDs): the optimum criterion moves by exactly 2 log|s| (REML, from R_X) or not at all (ML),
    within 1e-8 relative, on the sleep study. Larger offsets relative to the spread fail at ~1e-8 (hypothesis found
    s = −1.33e-3, t = 113: 1.6e-8) because X is not centred and the criterion itself loses digits; issue 9's broad
    family needs the fixed-effects columns conditioned too (left for the next session)."""
    sl = load('sleepstudy')
    base = _sleep_fit(reml)
    s = sign * 10.0 ** log_scale
    m = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl.assign(Days=s * sl.Days + rel_shift * abs(s)), REML=reml)
    expected = base.objective + (2 * np.log(abs(s)) if reml else 0.0)
    assert m.objective == pytest.approx(expected, rel=1e-8, abs=1e-8)


_SLEEP = {}
def _sleep_fit(reml):
    if reml not in _SLEEP: _SLEEP[reml] = quiet(lmer, "Reaction ~ Days + (Days | Subject)", load('sleepstudy'), REML=reml)
    return _SLEEP[reml]


# --- BLAS threads: fits in two threads ---------------------------------------------------------------------------------

def test_fits_in_two_threads_leave_blas_as_found_and_match_serial():
    """Four fits, serially and in two threads at once: the BLAS thread count after is what it was before (the limit
    is counted, not stacked), and every estimate is bit-identical to the serial fit's."""
    from concurrent.futures import ThreadPoolExecutor
    from threadpoolctl import threadpool_info
    blas = lambda: [p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas']
    sl, pen = load('sleepstudy'), load('Penicillin')
    jobs = [("Reaction ~ Days + (Days | Subject)", sl), ("diameter ~ 1 + (1|plate) + (1|sample)", pen),
            ("Reaction ~ Days + (Days || Subject)", sl), ("Reaction ~ 1 + (1 | Subject)", sl)]
    run = lambda job: quiet(lmer, *job)
    before = blas()
    serial = [run(j) for j in jobs]
    with ThreadPoolExecutor(2) as ex: threaded = list(ex.map(run, jobs))
    assert blas() == before
    for a, b in zip(serial, threaded):
        assert a.objective == b.objective and np.array_equal(a.theta, b.theta) and np.array_equal(a.fixef, b.fixef)
    # Satterthwaite's df run under the fit's limit too, and leave BLAS as found
    serial[0].coef_table()
    assert blas() == before


def test_start_with_a_vanished_first_term_then_moving_away():
    """A start= whose first term's λ is 0 makes the first sparse products of the later terms' blocks all zero sums;
    the products after it (θ moved off 0) must not be sized by them. Until 2026-11-26 they were: a fit from such a start
    wrote past its arrays (`free(): invalid size`). Here the fit from that start reaches the default fit's optimum, and
    objective() recomputed from scratch at its θ agrees."""
    rng = np.random.default_rng(122)
    n, ng, nh = 105, 35, 12
    g, h = np.repeat(np.arange(ng), 3), rng.integers(0, nh, n)
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(size=ng)[g] + 0.7 * rng.normal(size=ng)[g] * x + rng.normal(size=nh)[h] + 0.3 * rng.normal(size=nh)[h] * x + 0.5 * rng.normal(size=n)
    df = pd.DataFrame(dict(y=y, x=x, g=[f"g{i}" for i in g], h=[f"h{i}" for i in h]))
    form = "y ~ x + (x | g) + (x | h)"
    m = LinearMixedModel(form, df).fit()
    assert m.design.terms[0].group == 'g' and m.A.plans                 # g first (more levels); h's products are planned
    start = np.array(m.theta); start[:3] = 0.0                         # the first term vanished
    for _ in range(3):                                                 # fresh blocks each time: the first product is at the start
        s = LinearMixedModel(form, df).fit(start=start)
        assert abs(s.objective - m.objective) <= 1e-8 * abs(m.objective)
        assert abs(objective(Blocks(design(form, df)), s.theta, True) - s.objective) <= 1e-8 * abs(s.objective)
