"""The fast setup path (issues 9 and 11): the model frame read off numpy values, nothing kept per formula between calls,
Z's CSC arrays written directly, and the factorization at θ₀ made only when read. Expected values come from pandas'
own row-wise checks, scipy's triplet constructor and dense formulas, not from the code under test."""
import warnings
import numpy as np, pandas as pd, pytest
import scipy.sparse as sp
from mixednb import load, lmer, LinearMixedModel, MixedModelError
from mixednb.design import design, model_frame, Z_of, ReTerm
from mixednb.formula import parse_formula
from mixednb.rsyntax import translate

warnings.simplefilter('ignore')

def _data():
    rows = list('abcdefghij')
    return pd.DataFrame({'y': [1., 2, np.nan, 4, 5, 6, 7, 8, 9, 10],
                         'x': pd.array([1, None, 3, 4, 5, 6, 7, 8, 9, 1], dtype='Int64'),
                         'g': pd.Series(['a', 'b', 'a', None, 'b', 'a', 'b', 'a', 'b', 'a'], dtype='str', index=rows),
                         'h': pd.Categorical(['u', 'v', None, 'u', 'v', 'u', 'v', 'u', 'v', 'u']),
                         'o': pd.Series([1, 2, 3, 4, None, 6, 7, 8, 9, 10], dtype=object, index=rows),
                         'unused': [np.nan] * 10}, index=rows)

def test_model_frame_drops_the_rows_pandas_finds_missing():
    d = _data()
    used = ['y', 'x', 'g', 'h', 'o']
    fr, n_dropped = model_frame(parse_formula('y ~ x + h + o + (1 | g)'), d)
    keep = d[used].notna().all(axis=1)                       # pandas' own row-wise answer
    assert list(fr.index) == list(d.index[keep]) and n_dropped == int((~keep).sum()) == 4
    assert list(fr.columns) == used
    pd.testing.assert_frame_equal(fr, d.loc[keep, used])

def test_model_frame_fail_and_infinite_name_the_column():
    d = _data()
    with pytest.raises(MixedModelError, match="na_action='fail': column 'y' has a missing value at row 'c'"):
        model_frame(parse_formula('y ~ x + (1 | g)'), d, na_action='fail')
    with pytest.raises(MixedModelError, match="na_action='fail': column 'x' has a missing value at row 'b'"):
        model_frame(parse_formula('y ~ x + (1 | h)'), d.assign(y=1.0), na_action='fail')
    with pytest.raises(MixedModelError, match="column 'x' has infinite values \\(first at row 'e'\\)"):
        model_frame(parse_formula('y ~ x + (1 | g)'), d.assign(x=[1., 2, 3, 4, np.inf, 6, 7, 8, 9, 1]))
    with pytest.raises(MixedModelError, match="column 'x' has infinite values"):           # a nullable float column
        model_frame(parse_formula('y ~ x + (1 | g)'), d.assign(x=pd.array([1., 2, 3, 4, np.inf, 6, 7, 8, 9, 1], dtype='Float64')))

def test_every_column_used_leaves_the_callers_data_alone():
    "The frame is a shallow copy when the formula uses every column: converting an object column must not reach the data."
    sl = load('sleepstudy')
    d = pd.DataFrame({'Reaction': sl.Reaction, 'Days': sl.Days.astype(object), 'Subject': sl.Subject})
    before = d.copy(deep=True)
    D = design('Reaction ~ Days + (Days | Subject)', d)
    assert D.frame['Days'].dtype == float and d['Days'].dtype == object
    pd.testing.assert_frame_equal(d, before)
    m = lmer('Reaction ~ Days + (Days | Subject)', d)
    pd.testing.assert_frame_equal(d, before)
    assert abs(m.objective - 1743.62827195995) < 1e-6           # lme4's REML criterion

def test_parsed_formulas_and_translations_are_the_callers_own():
    f = 'Reaction ~ Days + (Days | Subject)'
    a = parse_formula(f); a.bars.clear(); a.offsets.append('z')
    b = parse_formula(f)
    assert len(b.bars) == 1 and b.offsets == []
    cols = ['Reaction', 'Days', 'Subject']
    t = translate('Days + factor(Subject)', cols); t.columns.clear(); t.calls.clear()
    u = translate('Days + factor(Subject)', cols)
    assert u.columns == ['Days', 'Subject'] and len(u.calls) == 1
    with pytest.raises(MixedModelError, match="unbalanced parentheses"): parse_formula('y ~ x + (1 | g')
    with pytest.raises(MixedModelError, match="unbalanced parentheses"): parse_formula('y ~ x + (1 | g')   # raised again, not kept

def test_scale_is_translated_on_each_data():
    "A translation that reads the data is not kept: scale() centres on the data it is given."
    cols = ['y', 'x']
    t1 = translate('scale(x)', cols, data=pd.DataFrame({'y': [1., 2, 3], 'x': [1., 2, 3]}))
    t2 = translate('scale(x)', cols, data=pd.DataFrame({'y': [1., 2, 3], 'x': [10., 20, 30]}))
    assert t1.python != t2.python

def test_Z_of_matches_scipys_triplets_with_an_empty_level():
    rng = np.random.default_rng(5)
    codes = rng.choice([0, 1, 3, 4], size=40)                    # level 2 has no row
    t = ReTerm(parse_formula('y ~ (x | g)').bars[0], codes, list('abcde'), rng.normal(size=(40, 2)), ['(Intercept)', 'x'])
    ref = sp.csc_matrix((t.X.ravel(), (np.repeat(np.arange(40), 2), (codes[:, None] * 2 + np.arange(2)).ravel())), shape=(40, 10))
    Z = Z_of(t)
    assert Z.shape == (40, 10) and (abs(Z - ref)).max() == 0
    for a in ('indptr', 'indices', 'data'): np.testing.assert_array_equal(getattr(Z, a), getattr(ref, a))

def test_unfitted_model_criterion_at_theta0_is_the_dense_one():
    "Factored on first read: the REML criterion at θ₀ from V = I + ZΛΛ'Z' densely, and a fit that never reads it."
    m = LinearMixedModel('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))
    assert 'objective' not in m.__dict__
    d = m.design
    ZL = d.Z.toarray() @ d.Lambda(d.theta0).toarray()
    V = np.eye(d.n) + ZL @ ZL.T
    Vi = np.linalg.inv(V)
    XtViX = d.X.T @ Vi @ d.X
    beta = np.linalg.solve(XtViX, d.X.T @ Vi @ d.y)
    r = d.y - d.X @ beta
    nu = d.n - d.p
    crit = np.linalg.slogdet(V)[1] + np.linalg.slogdet(XtViX)[1] + nu * (1 + np.log(2 * np.pi * (r @ Vi @ r) / nu))
    assert abs(m.objective - crit) < 1e-8 * abs(crit)
    f = LinearMixedModel('Reaction ~ Days + (Days | Subject)', load('sleepstudy')).fit()
    assert abs(f.objective - 1743.62827195995) < 1e-6 and f.optsum['geval'] < f.optsum['feval']

def test_nothing_is_kept_per_formula_or_data_between_fits():
    "A user's first fit of a formula costs what the hundredth does: the only caches on the fit's path are keyed on sizes."
    import importlib
    allowed = {('design', '_triangle'), ('objective', 'positions'), ('objective', '_bd_pattern')}   # keyed on p, (ℓ, p)
    kept = set()
    for name in ('formula', 'rsyntax', 'design', 'objective', 'gradient', 'optimum', 'fit'):
        mod = importlib.import_module(f'mixednb.{name}')
        kept |= {(name, k) for k, v in vars(mod).items() if hasattr(v, 'cache_info') and getattr(v, '__module__', '') == mod.__name__}
    assert kept <= allowed, f"caches on the fit's path: {sorted(kept - allowed)}"
    f = 'Reaction ~ Days + (Days | Subject)'
    cols = ['Reaction', 'Days', 'Subject']
    assert translate('1 + Days', cols).columns == ['Days'] and translate('1 + Days', cols + ['x']).columns == ['Days']
    assert parse_formula(f) is not parse_formula(f)
