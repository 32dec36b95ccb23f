"""The model fitted is the model written (issue 10, first part): formulas pasted from lme4 mean what they mean in R,
against lme4 fits made with R (tests/reference/formula/make_refs.R), and a formula cannot run code."""
import json, re, subprocess, sys, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest

from mixednb import lmer, load, LinearMixedModel, MixedModelError, MixedModelWarning
from mixednb.formula import parse_formula

REFS = json.loads((Path(__file__).parent / 'reference' / 'formula' / 'lme4_fits.json').read_text())['fits']


def quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        return f(*a, **k)


def data(name):
    "The data each reference was fitted to (the R script builds `renamed` the same way)."
    if name == 'ergoStool': return load(name)
    if name == 'sleepmissing':
        sm = load('sleepstudy')
        sm.loc[sm.index[::7], 'Reaction'] = np.nan
        return sm
    if name == 'cake':
        ck = load('cake')
        return ck.assign(temperature=pd.Categorical(ck.temperature, categories=sorted(ck.temperature.unique()), ordered=True))
    if name == 'sleepstudy': return load(name).assign(w=lambda d: 1 / (1 + d.Days))
    if name == 'ChickWeight': return load(name).assign(w=lambda d: d.Chick.astype(int) % 5 + 0.5, o=lambda d: 0.02 * d.Time)
    sl = load('sleepstudy').rename(columns={'Days': 'exp'})
    return sl.assign(**{'Days.num': sl.exp / 10, 'C': sl.exp % 2})


def as_matrix(v):
    "A contrast matrix stored by make_refs.R: a DataFrame when R's matrix had column names, else an array."
    return pd.DataFrame(v['matrix'], columns=v['colnames']) if v['colnames'] else np.array(v['matrix'], float)


@pytest.mark.parametrize('ref', REFS, ids=[r['id'] for r in REFS])
def test_matches_lme4(ref):
    "Response expressions, `^` in calls, factor(), log(), columns named like functions or with dots: lme4's numbers."
    w, o, c = ref.get('weights'), ref.get('offset'), ref.get('contrasts')
    if isinstance(c, dict): c = {k: as_matrix(v) if isinstance(v, dict) else v for k, v in c.items()}
    m = quiet(lmer, ref['formula'], data(ref['data']), REML=ref['REML'], weights=w if isinstance(w, str) else None,
              offset=o if isinstance(o, str) else None, contrasts=c if isinstance(c, dict) else None)
    assert m.objective == pytest.approx(ref['criterion'], rel=1e-6, abs=1e-6)
    assert list(m.fixef.index) == list(ref['fixef'])
    np.testing.assert_allclose(m.fixef.to_numpy(), list(ref['fixef'].values()), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(m.vcov)), ref['se'], rtol=1e-3)
    assert m.sigma == pytest.approx(ref['sigma'], rel=1e-3)
    np.testing.assert_allclose(m.theta, ref['theta'], rtol=1e-3, atol=1e-4)      # the variance components (VarCorr)


def test_response_minus_a_constant_is_not_the_response():
    "`Reaction - 100` shifts the intercept by 100 (it was read as `Reaction` without a term '100')."
    sl = load('sleepstudy')
    a, b = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl), quiet(lmer, "Reaction - 100 ~ Days + (Days | Subject)", sl)
    assert b.fixef['(Intercept)'] == pytest.approx(a.fixef['(Intercept)'] - 100, abs=1e-6)
    assert b.objective == pytest.approx(a.objective, rel=1e-10)


def test_power_in_I_is_a_power_on_integer_columns():
    "`I(D^2)` on an integer column squares it (Python's `^` is XOR: 3 ^ 2 == 1)."
    sl = load('sleepstudy')
    ints, floats = sl.assign(D=sl.Days.astype(int)), sl.assign(D=sl.Days.astype(float))
    a, b = (quiet(lmer, "Reaction ~ D + I(D^2) + (1 | Subject)", d) for d in (ints, floats))
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    np.testing.assert_allclose(a.design.X[:, 2], sl.Days.to_numpy() ** 2)


@pytest.mark.parametrize('name', ['exp', 'log', 'C', 'np', 'Treatment', 'I', 'factor', 'T', 'Days.num', 'total fruits', 'Tage_ä'])
def test_columns_named_like_functions_or_not_python_names(name):
    "A column may be called anything R allows: the fit equals the one with the column called `x`."
    sl = load('sleepstudy')
    q = f"`{name}`" if ' ' in name else name
    a = quiet(lmer, "Reaction ~ x + (x | Subject)", sl.assign(x=sl.Days))
    b = quiet(lmer, f"Reaction ~ {q} + ({q} | Subject)", sl.assign(**{name: sl.Days}))
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    assert list(b.fixef.index) == ['(Intercept)', name]


def test_extra_parentheses_and_unicode_grouping_names():
    sl = load('sleepstudy')
    a = quiet(lmer, "Reaction ~ Days + (1 | Subject)", sl)
    b = quiet(lmer, "Reaction ~ Days + ((1 | Gruppé))", sl.assign(Gruppé=sl.Subject))
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    assert list(b.ranef()) == ['Gruppé']


def test_factor_of_a_numeric_column():
    sl = load('sleepstudy')
    m = quiet(lmer, "Reaction ~ factor(Days) + (1 | Subject)", sl)
    assert list(m.fixef.index) == ['(Intercept)'] + [f"factor(Days){d}" for d in range(1, 10)]
    new = sl.iloc[:3]
    np.testing.assert_allclose(m.predict(new), m.fitted().iloc[:3])


def test_predict_on_new_data_with_translated_columns():
    "Columns under aliases (named like functions, with dots) are found again in new data."
    sl = load('sleepstudy').assign(exp=lambda d: d.Days, **{'Days.num': lambda d: d.Days / 10})
    m = quiet(lmer, "log(Reaction) ~ exp + I(Days.num^2) + (exp | Subject)", sl)
    np.testing.assert_allclose(m.predict(sl.iloc[::7]), m.fitted().iloc[::7], rtol=1e-12)


MARKER_CODE = [
    "I(np.__builtins__['exec'](\"open('{p}', 'w').write('x')\"))",
    "I(__import__('os').system('touch {p}'))",
    "I(open('{p}', 'w'))",
    "I(Days.__class__.__base__)",
    "np.os.system('touch {p}')",
    "I((lambda: open('{p}', 'w'))())",
]


@pytest.mark.parametrize('code', MARKER_CODE)
def test_a_formula_cannot_run_code(tmp_path, code):
    "Each expression raises a MixedModelError naming it, and the marker file is never created, in lmer and the CLI."
    marker = tmp_path / 'marker'
    expr = code.format(p=marker)
    with pytest.raises(MixedModelError):
        lmer(f"Reaction ~ {expr} + (1 | Subject)", load('sleepstudy'))
    with pytest.raises(MixedModelError):
        lmer(f"{expr} ~ Days + (1 | Subject)", load('sleepstudy'))
    r = subprocess.run([sys.executable, '-c', 'import sys; from mixednb.cli import main; sys.exit(main())', 'fit', f"Reaction ~ {expr} + (1 | Subject)", 'sleepstudy'],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and 'Traceback' not in r.stderr and 'formula' in r.stderr, r.stderr
    assert not marker.exists()


@pytest.mark.parametrize('call, match', [
    (dict(REML='no'), "REML must be True or False, not 'no'"),
    (dict(REML=1), "REML must be True or False, not 1"),
    (dict(weights='w'), "unknown column 'w' in weights="),
    (dict(weights=[1.0, 2.0]), "weights= has 2 values for the 180 rows of data"),
    (dict(weights=np.r_[-1.0, np.ones(179)]), "weights= must be positive and finite: row 0 has -1"),
    (dict(weights=np.r_[np.ones(179), 0.0]), "row 179 has 0 (drop rows of weight 0)"),
    (dict(weights=np.r_[np.inf, np.ones(179)]), "row 0 has inf"),
    (dict(weights=['a'] * 180), "weights= must be numeric"),
    (dict(offset='o'), "unknown column 'o' in offset="),
    (dict(offset=np.r_[np.inf, np.zeros(179)]), "offset= is infinite at row 0"),
    (dict(subset='Dayz > 1'), "unknown column 'Dayz' in subset= 'Dayz > 1'"),
    (dict(subset='Days + 1'), "subset= 'Days + 1' must be a condition"),
    (dict(subset=[True, False]), "subset= must be a condition string or one bool per row of data (180)"),
    (dict(subset='Days > 100'), "subset= keeps no rows"),
    (dict(na_action='exclude'), "na_action must be 'omit' or 'fail', not 'exclude'"),
    (dict(contrasts={'Subjct': 'sum'}), "unknown column 'Subjct' in contrasts=; did you mean 'Subject'?"),
    (dict(contrasts={'Subject': 'deviation'}), "contrasts= for 'Subject': 'deviation' is not a coding"),
    (dict(contrasts={'Days': 'sum'}), "contrasts= for 'Days': the column is numeric, not a factor"),
    (dict(contrasts=['sum']), "contrasts= must be a dict"),
    (dict(maxfun=100), "unknown argument or control setting 'maxfun'; the control settings are"),
])
def test_arguments_say_what_is_wrong(call, match):
    with pytest.raises(MixedModelError, match=re.escape(match)):
        lmer("Reaction ~ Days + (1 | Subject)", load('sleepstudy'), **call)


@pytest.mark.parametrize('formula, match', [
    ("Reaction ~ Dayz + (1 | Subject)", "unknown column 'Dayz' in formula 'Reaction ~ Dayz + (1 | Subject)'; did you mean 'Days'?"),
    ("Reaction ~ foo(Days) + (1 | Subject)", "'foo(…)' in formula"),
    ("Reaction ~ Days[1] + (1 | Subject)", "'[' at position"),
    ("Reaction ~ 'Days' + (1 | Subject)", "a string 'Days' in formula"),
    ("Reaction ~ Days + (1 | Subjct)", "unknown column 'Subjct'"),
    ("Reaction + Days ~ 1 + (1 | Subject)", None),
    ("log(Reaction - 1000) ~ Days + (1 | Subject)", "not finite at row"),
])
def test_formula_errors_name_the_culprit(formula, match):
    if match is None:          # R: a sum as the response is fine
        m = quiet(lmer, formula, load('sleepstudy'))
        np.testing.assert_allclose(m.design.y, (load('sleepstudy').Reaction + load('sleepstudy').Days).to_numpy())
        return
    with pytest.raises(MixedModelError, match=re.escape(match)):
        lmer(formula, load('sleepstudy'))


def test_data_is_not_modified():
    sl = load('sleepstudy').assign(exp=lambda d: d.Days)
    before = sl.copy()
    quiet(lmer, "log(Reaction) - 5 ~ exp + I(exp^2) + factor(Subject == '308') + (exp | Subject)", sl)
    pd.testing.assert_frame_equal(sl, before)


def test_weights_of_one_and_missing_weights():
    "Weights of 1 are the unweighted model; a missing weight drops its row, as a missing value does."
    sl = load('sleepstudy')
    a = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl)
    b = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, weights=np.ones(len(sl)))
    assert b.objective == pytest.approx(a.objective, rel=1e-12) and b.sigma == pytest.approx(a.sigma, rel=1e-9)
    w = np.where(np.arange(len(sl)) == 5, np.nan, 2.0)
    c = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, weights=w)
    d = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl.drop(index=5), weights=np.full(len(sl) - 1, 2.0))
    assert c.nobs == 179 and c.objective == pytest.approx(d.objective, rel=1e-10)
    assert any('1' in n and 'missing' in n for n in c.notes), c.notes


def test_weights_scale_sigma_and_pearson_residuals():
    "Every weight c: σ̂ grows by √c, θ̂ and β̂ stay; the scaled residuals are √wᵢ(yᵢ − ŷᵢ)/σ̂."
    sl = load('sleepstudy').assign(w=lambda d: 1 / (1 + d.Days))
    a = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, weights='w')
    b = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, weights=sl.w * 9)
    assert b.sigma == pytest.approx(3 * a.sigma, rel=1e-6)
    np.testing.assert_allclose(b.theta, a.theta / 3, rtol=1e-4)
    np.testing.assert_allclose(b.fixef, a.fixef, rtol=1e-6)
    np.testing.assert_allclose(a.residuals(scaled=True), np.sqrt(sl.w) * a.residuals() / a.sigma, rtol=1e-12)
    sim = a.simulate(2000, seed=1).sub(a.fitted(), axis=0)
    ratio = sim.groupby(sl.Days).var().mean(axis=1)          # larger variance where the weight is smaller
    assert ratio.iloc[-1] > 3 * ratio.iloc[0]


def test_offsets_in_the_formula_and_as_argument_agree_and_predict():
    "offset(5 * Days) in the formula, offset='o' and offset=<numbers> are the same model: y − offset fitted, the offset in every prediction."
    sl = load('sleepstudy').assign(o=lambda d: 5 * d.Days)
    a = quiet(lmer, "Reaction ~ Days + offset(5 * Days) + (Days | Subject)", sl)
    b = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, offset='o')
    c = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, offset=sl.o.to_numpy())
    base = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl)
    for m in (a, b, c):
        assert m.objective == pytest.approx(base.objective, rel=1e-9)
        assert m.fixef['Days'] == pytest.approx(base.fixef['Days'] - 5, rel=1e-7)
        np.testing.assert_allclose(m.fitted(), base.fitted(), rtol=1e-7)         # optimizer paths differ at ~1e-9
    np.testing.assert_allclose(a.predict(sl.iloc[:5]), base.predict(sl.iloc[:5]), rtol=1e-7)
    np.testing.assert_allclose(b.predict(sl.iloc[:5], re_form=False), base.predict(sl.iloc[:5], re_form=False), rtol=1e-7)
    with pytest.raises(MixedModelError, match="offset= was given as numbers"): c.predict(sl.iloc[:5])
    with pytest.raises(MixedModelError, match="newdata has no column 'o'"): b.predict(sl.iloc[:5].drop(columns='o'))
    sim = a.simulate(500, seed=2).mean(axis=1)
    assert abs(sim.mean() - sl.Reaction.mean()) < 3


def test_numbers_with_object_dtype_are_numbers_with_a_note():
    "A column of numbers stored as objects is a covariate, as in R (it was a 10-level factor, silently)."
    sl = load('sleepstudy')
    obj = sl.assign(Days=sl.Days.astype(object))
    assert obj.Days.dtype == object
    a = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl)
    with pytest.warns(MixedModelWarning, match="column 'Days' holds numbers stored with object dtype: used as numbers"):
        b = lmer("Reaction ~ Days + (Days | Subject)", obj)
    assert b.objective == pytest.approx(a.objective, rel=1e-10) and list(b.fixef.index) == ['(Intercept)', 'Days']
    assert obj.Days.dtype == object                                       # the caller's data unchanged


def test_subset_as_lme4():
    "subset= as a condition (R's meaning: & after comparisons) or as booleans: the fit on those rows."
    sl = load('sleepstudy')
    keep = (sl.Days > 2) & (sl.Subject.astype(str) != '308')
    a = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl[keep])
    b = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, subset="Days > 2 & Subject != '308'")
    c = quiet(lmer, "Reaction ~ Days + (Days | Subject)", sl, subset=keep.to_numpy())
    for m in (b, c):
        assert m.nobs == keep.sum() and m.objective == pytest.approx(a.objective, rel=1e-10)
    assert list(b.fitted().index) == list(sl.index[keep])            # the data's row labels


def test_na_action_fail_names_the_column_and_row():
    sl = load('sleepstudy')
    sl.loc[7, 'Days'] = np.nan
    with pytest.raises(MixedModelError, match=r"na_action='fail': column 'Days' has a missing value at row 7"):
        lmer("Reaction ~ Days + (1 | Subject)", sl, na_action='fail')
    assert quiet(lmer, "Reaction ~ Days + (1 | Subject)", sl).nobs == 179


def test_polars_gives_the_pandas_fit():
    import polars as pl
    sl = load('sleepstudy')
    a = quiet(lmer, "log(Reaction) ~ Days + I(Days^2) + (Days | Subject)", sl)
    b = quiet(lmer, "log(Reaction) ~ Days + I(Days^2) + (Days | Subject)", pl.DataFrame({c: sl[c].tolist() for c in sl.columns}))
    assert b.objective == a.objective and np.array_equal(b.fixef, a.fixef)


def _dtypes():
    import pyarrow as pa
    sl = load('sleepstudy').assign(half=lambda d: np.where(d.Days < 5, 'early', 'late'))
    s = lambda v, t: v.astype(str).astype(t)
    return sl, {
        'string[pyarrow] factors': sl.assign(Subject=s(sl.Subject, 'string[pyarrow]'), half=s(sl.half, 'string[pyarrow]')),
        'string[python] factors': sl.assign(Subject=s(sl.Subject, 'string'), half=s(sl.half, 'string')),
        'ArrowDtype(string) factors': sl.assign(Subject=s(sl.Subject, pd.ArrowDtype(pa.string())), half=s(sl.half, pd.ArrowDtype(pa.string()))),
        'nullable Int64 / Float64': sl.assign(Days=sl.Days.astype('Int64'), Reaction=sl.Reaction.astype('Float64')),
        'pyarrow numbers': sl.assign(Days=sl.Days.astype('int64[pyarrow]'), Reaction=sl.Reaction.astype('double[pyarrow]')),
        'categorical': sl.assign(Subject=sl.Subject.astype('category'), half=sl.half.astype('category')),
    }


@pytest.mark.parametrize('kind', list(_dtypes()[1]))
def test_pandas_extension_dtypes_give_the_same_fit(kind):
    "Nullable and pyarrow-backed dtypes (strings, numbers) are read as the numpy ones, with pd.NA as missing."
    f = "Reaction ~ Days * half + I(Days^2) + (Days | Subject)"
    sl, variants = _dtypes()
    a, b = quiet(lmer, f, sl), quiet(lmer, f, variants[kind])
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    assert list(b.fixef.index) == list(a.fixef.index)
    np.testing.assert_allclose(b.fixef, a.fixef, rtol=1e-9)
    np.testing.assert_allclose(b.predict(variants[kind].iloc[::17]), a.predict(sl.iloc[::17]), rtol=1e-9)
    na = variants[kind].copy()
    na.loc[na.index[[3, 40]], ['Reaction', 'Subject']] = pd.NA if kind != 'categorical' else np.nan
    c = quiet(lmer, f, na)
    assert c.nobs == 178


def test_interchange_protocol_gives_the_pandas_fit():
    "A frame known only by the dataframe interchange protocol (a pyarrow Table: no get_column) fits as pandas does."
    import pyarrow as pa
    sl = load('sleepstudy')
    table = pa.Table.from_pandas(sl, preserve_index=False)
    assert not hasattr(table, 'get_column') and hasattr(table, '__dataframe__')
    a, b = quiet(lmer, SLEEP_F, sl), quiet(lmer, SLEEP_F, table)
    assert b.objective == pytest.approx(a.objective, rel=1e-12)
    np.testing.assert_allclose(b.fixef, a.fixef, rtol=1e-10)


SLEEP_F = "Reaction ~ Days + (Days | Subject)"
