"""Bad formulas and bad data raise `MixedModelError` naming the column, term or value at fault; data problems
that are not errors (NA rows, aliased columns, singular fits) are handled and reported; some formula grammar."""
import re, warnings

import numpy as np
import pandas as pd
import pytest

from mixednb.datasets import load
from mixednb.fit import lmer, MixedModelWarning
from mixednb.formula import MixedModelError

SLEEP = 'Reaction ~ Days + (Days | Subject)'


@pytest.fixture
def ss():
    return load('sleepstudy')


def quiet_fit(formula, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('error', MixedModelWarning)   # these fits must not warn
        return lmer(formula, data, **kw)


def test_error_is_value_error():
    assert issubclass(MixedModelError, ValueError)
    with pytest.raises(ValueError):
        lmer('Reaction ~ Dayz + (1 | Subject)', load('sleepstudy'))


# ---------------------------------------------------------------- unknown columns

def test_unknown_column_fixed(ss):
    with pytest.raises(MixedModelError, match=r"unknown column 'Dayz'.*did you mean 'Days'"):
        lmer('Reaction ~ Dayz + (Days | Subject)', ss)


def test_unknown_column_in_bar(ss):
    with pytest.raises(MixedModelError, match=r"unknown column 'Dayz'"):
        lmer('Reaction ~ Days + (Dayz | Subject)', ss)


def test_unknown_grouping_factor(ss):
    with pytest.raises(MixedModelError, match=r"unknown column 'Subj'.*'Subject'"):
        lmer('Reaction ~ Days + (Days | Subj)', ss)


def test_unknown_response(ss):
    with pytest.raises(MixedModelError, match=r"unknown column 'Reactio'"):
        lmer('Reactio ~ Days + (Days | Subject)', ss)


def test_missing_column_lists_columns(ss):
    with pytest.raises(MixedModelError, match=r"unknown column 'Reaction'"):
        lmer(SLEEP, ss.drop(columns='Reaction'))


# ---------------------------------------------------------------- formula syntax

@pytest.mark.parametrize('formula', ['Reaction ~ Days + (Days | Subject', 'Reaction ~ Days + Days | Subject)',
                                     'Reaction ~ Days + ((Days | Subject)'])
def test_unbalanced_parentheses(ss, formula):
    with pytest.raises(MixedModelError, match=r"unbalanced parentheses"):
        lmer(formula, ss)


def test_empty_bar_expression(ss):
    with pytest.raises(MixedModelError, match=re.escape("'( | Subject)'")):
        lmer('Reaction ~ Days + ( | Subject)', ss)


def test_empty_bar_group(ss):
    with pytest.raises(MixedModelError, match=re.escape("'(1 | )'")):
        lmer('Reaction ~ Days + (1 | )', ss)


def test_empty_interaction_factor(ss):
    with pytest.raises(MixedModelError, match=r"empty grouping factor"):
        lmer('Reaction ~ Days + (1 | Subject:)', ss)


def test_bad_bar_expression_is_mixed_model_error(ss):
    # formulaic's FormulaSyntaxError (not a ValueError) must not escape: wrap it, naming the term
    with pytest.raises(MixedModelError, match=re.escape('1 +')):
        lmer('Reaction ~ Days + (1 + | Subject)', ss)


def test_no_random_effects(ss):
    with pytest.raises(MixedModelError, match=r"no random-effects term"):
        lmer('Reaction ~ Days', ss)


def test_bar_without_parentheses(ss):
    with pytest.raises(MixedModelError, match=re.escape("'Days | Subject'")):
        lmer('Reaction ~ Days + Days | Subject', ss)


def test_no_response(ss):
    with pytest.raises(MixedModelError, match=r"response ~ terms"):
        lmer(' ~ Days + (1 | Subject)', ss)


def test_formula_not_a_string(ss):
    with pytest.raises(MixedModelError, match=r"formula must be a string, not int"):
        lmer(3, ss)


def test_unknown_optimizer(ss):
    with pytest.raises(MixedModelError, match=r"unknown optimizer 'nelder'"):
        lmer(SLEEP, ss, optimizer='nelder')


# ---------------------------------------------------------------- bad data

def test_non_numeric_response(ss):
    with pytest.raises(MixedModelError, match=r"response 'Subject' must be numeric"):
        lmer('Subject ~ Days + (1 | Subject)', ss)
    with pytest.raises(MixedModelError, match=r"response 'r' must be numeric"):
        lmer('r ~ Days + (1 | Subject)', ss.assign(r=ss.Reaction.astype(str)))
    with pytest.raises(MixedModelError, match=r"response 'b' must be numeric.*bool"):
        lmer('b ~ Days + (1 | Subject)', ss.assign(b=ss.Reaction > 300))


def test_constant_response(ss):
    with pytest.raises(MixedModelError, match=r"response 'c' has no variance.*1\.5"):
        lmer('c ~ Days + (1 | Subject)', ss.assign(c=1.5))


def test_single_level_grouping_factor(ss):
    with pytest.raises(MixedModelError, match=r"grouping factor 'g'.*single level \('only'\)"):
        lmer('Reaction ~ Days + (1 | g)', ss.assign(g='only'))


def test_single_level_after_na_removal(ss):
    d = ss.copy()
    d.loc[d.Subject != '308', 'Reaction'] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        with pytest.raises(MixedModelError, match=r"grouping factor 'Subject'.*single level \('308'\)"):
            lmer('Reaction ~ Days + (1 | Subject)', d)


def test_as_many_levels_as_observations(ss):
    with pytest.raises(MixedModelError, match=r"grouping factor 'row'.*180 levels for 180 observations"):
        lmer('Reaction ~ Days + (1 | row)', ss.assign(row=np.arange(len(ss))))


def test_more_random_effects_than_observations(ss):
    small = ss[ss.Subject.isin(['308', '309', '310'])].groupby('Subject', observed=True).head(2)
    assert len(small) == 6
    with pytest.raises(MixedModelError, match=r"\(Days \| Subject\) has 6 random effects \(3 levels × 2 columns\) for 6 observations"):
        lmer(SLEEP, small)


def _wide(n_obs, n_x, seed=0):
    "20 rows, groups a/b, n_x predictors; y missing except in the first n_obs rows."
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(dict(y=rng.normal(size=20), g=list('ab') * 10, **{f'x{i}': rng.normal(size=20) for i in range(n_x)}))
    d.loc[n_obs:, 'y'] = np.nan
    return d, 'y ~ ' + ' + '.join(f'x{i}' for i in range(n_x)) + ' + (1 | g)'


def test_fewer_rows_than_fixed_effects_after_na_removal():
    d, f = _wide(6, 8)     # 6 complete rows, 9 fixed effects
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        with pytest.raises(MixedModelError, match=r"6 observations.*14 with missing values.*9 fixed effects"):
            lmer(f, d)


def test_as_many_rows_as_fixed_effects():
    d, f = _wide(5, 4)     # 5 complete rows, 5 fixed effects: no residual degrees of freedom
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        with pytest.raises(MixedModelError, match=r"5 observations.*5 fixed effects"):
            lmer(f, d)


def test_empty_dataframe(ss):
    with pytest.raises(MixedModelError, match=r"empty DataFrame"):
        lmer(SLEEP, ss.iloc[:0])
    with pytest.raises(MixedModelError, match=r"empty DataFrame"):
        lmer(SLEEP, pd.DataFrame())


def test_not_a_dataframe(ss):
    with pytest.raises(MixedModelError, match=r"DataFrame, not list"):
        lmer(SLEEP, [1, 2, 3])


def test_all_rows_missing(ss):
    with pytest.raises(MixedModelError, match=r"no rows left"):
        lmer(SLEEP, ss.assign(Reaction=np.nan))


@pytest.mark.parametrize('value', [np.inf, -np.inf])
def test_infinite_response(ss, value):
    ss.loc[3, 'Reaction'] = value
    with pytest.raises(MixedModelError, match=r"column 'Reaction' has infinite values \(first at row 3\)"):
        lmer(SLEEP, ss)


def test_infinite_predictor(ss):
    ss['Days'] = ss.Days.astype(float)
    ss.loc[17, 'Days'] = -np.inf
    with pytest.raises(MixedModelError, match=r"column 'Days' has infinite values \(first at row 17\)"):
        lmer(SLEEP, ss)


# ---------------------------------------------------------------- handled, reported, not errors

def test_rank_deficient_column_dropped(ss):
    ss['x1'] = np.random.default_rng(0).normal(size=len(ss))
    ss['x2'] = 2 * ss.x1 - 3            # aliased with the intercept and x1
    with pytest.warns(MixedModelWarning, match=r"rank deficient.*dropping 1 column.*x2"):
        m = lmer('Reaction ~ Days + x1 + x2 + (Days | Subject)', ss)
    assert m.design.dropped_columns == ['x2']
    assert list(m.fixef.index) == ['(Intercept)', 'Days', 'x1']
    assert any('x2' in n for n in m.notes)
    ref = quiet_fit('Reaction ~ Days + x1 + (Days | Subject)', ss)
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(m.theta, ref.theta, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(m.fixef, ref.fixef, rtol=1e-8)
    assert m.sigma == pytest.approx(ref.sigma, rel=1e-8)
    assert m.npar == ref.npar and m.aic == pytest.approx(ref.aic, rel=1e-10)


def test_na_rows_dropped_and_counted(ss):
    ss.loc[[1, 5], 'Reaction'] = np.nan
    ss.loc[9, 'Days'] = np.nan
    ss['Subject'] = ss.Subject.astype(object)
    ss.loc[20, 'Subject'] = None
    ss['unused'] = np.nan                # NA in a column the formula does not use: no row dropped for it
    with pytest.warns(MixedModelWarning, match=r"4 rows with missing values dropped \(176 used\)"):
        m = lmer(SLEEP, ss)
    assert m.design.n_dropped == 4 and m.nobs == 176
    assert any('4 rows' in n for n in m.notes)
    assert not set(m.fitted().index) & {1, 5, 9, 20}
    ref = quiet_fit(SLEEP, ss.drop(index=[1, 5, 9, 20]).drop(columns='unused'))
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(m.fixef, ref.fixef, rtol=1e-8)


def test_one_na_row_singular_wording(ss):
    ss.loc[0, 'Reaction'] = np.nan
    with pytest.warns(MixedModelWarning, match=r"^1 row with missing values dropped \(179 used\)"):
        m = lmer(SLEEP, ss)
    assert m.nobs == 179 and m.design.n_dropped == 1


def test_singular_fit_is_reported_not_raised():
    with pytest.warns(MixedModelWarning, match=r"singular.*Batch"):
        m = lmer('Yield ~ 1 + (1 | Batch)', load('Dyestuff2'))
    assert m.is_singular is True
    assert m.theta[0] == pytest.approx(0, abs=1e-8)
    assert any('singular' in n for n in m.notes)
    assert m.varcorr.sdcor.iloc[0] == pytest.approx(0, abs=1e-6)


def test_regular_fit_no_warning(ss):
    m = quiet_fit(SLEEP, ss)
    assert m.is_singular is False and m.notes == [] and m.design.n_dropped == 0


# ---------------------------------------------------------------- grammar

def test_double_bar_uncorrelated(ss):
    m = quiet_fit('Reaction ~ Days + (Days || Subject)', ss)
    assert len(m.theta) == 2
    vc = m.varcorr
    assert list(vc.grp) == ['Subject', 'Subject.1', 'Residual']
    assert list(vc.var1[:2]) == ['(Intercept)', 'Days'] and vc.var2[:2].isna().all()
    # the same model as two separate terms
    ref = quiet_fit('Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)', ss)
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(m.theta, ref.theta, rtol=1e-6)
    # between the uncorrelated model and the full one
    full = quiet_fit(SLEEP, ss)
    assert full.objective <= m.objective
    re = m.ranef()['Subject']
    assert list(re.columns) == ['(Intercept)', 'Days'] and len(re) == 18


def test_interaction_grouping_factor():
    p = load('Pastes')
    m = quiet_fit('strength ~ 1 + (1 | batch:cask)', p)
    assert m.ngroups == {'batch:cask': 30}
    assert list(m.ranef()['batch:cask'].index[:3]) == ['A:a', 'A:b', 'A:c']
    ref = quiet_fit('strength ~ 1 + (1 | sample)', p)    # `sample` is the batch:cask label
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    assert m.sigma == pytest.approx(ref.sigma, rel=1e-8)


def test_nested_grouping_expands():
    m = quiet_fit('strength ~ 1 + (1 | batch/cask)', load('Pastes'))
    assert m.ngroups == {'cask:batch': 30, 'batch': 10}


def test_no_intercept_fixed(ss):
    m = quiet_fit('Reaction ~ 0 + Days + (1 | Subject)', ss)
    assert list(m.fixef.index) == ['Days'] and m.design.p == 1
    m2 = quiet_fit('Reaction ~ Days - 1 + (1 | Subject)', ss)
    assert m2.objective == pytest.approx(m.objective, rel=1e-10)


def test_I_transform(ss):
    m = quiet_fit('Reaction ~ Days + I(Days**2) + (1 | Subject)', ss)
    assert len(m.fixef) == 3 and m.fixef.index[2].startswith('I(Days')
    ref = quiet_fit('Reaction ~ Days + D2 + (1 | Subject)', ss.assign(D2=ss.Days ** 2))
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(m.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-8)


def test_log_response(ss):
    m = quiet_fit('np.log(Reaction) ~ Days + (Days | Subject)', ss)
    ref = quiet_fit('lr ~ Days + (Days | Subject)', ss.assign(lr=np.log(ss.Reaction)))
    assert m.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(m.fixef.to_numpy(), ref.fixef.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(m.design.y, np.log(ss.Reaction.to_numpy()))


def test_factor_fixed_effect_names():
    m = quiet_fit('distance ~ bow + (1 | archer)', load('archers'))
    assert list(m.fixef.index) == ['(Intercept)', 'bowSouthwood']


def _fitted():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        return lmer(SLEEP, load('sleepstudy'))


_SL, _ES = load('sleepstudy'), load('ergoStool')
BAD = [   # (what, call, the words the message must hold: the culprit named)
    ('dummy() level on numbers', lambda: lmer('Reaction ~ Days + (0 + dummy(Days, "x") | Subject)', _SL), "'Days' holds numbers, not the level \"x\""),
    ('dummy() of several levels', lambda: lmer('Reaction ~ Days + (0 + dummy(Subject, c("308", "309")) | Subject)', _SL), 'one dummy() per level'),
    ('dummy() of an unknown column', lambda: lmer('Reaction ~ Days + (0 + dummy(Subjekt, "308") | Days)', _SL), "unknown column 'Subjekt'"),
    ('contrast matrix, wrong rows', lambda: lmer('effort ~ Type + (1 | Subject)', _ES, contrasts={'Type': np.eye(3)}), "for 'Type': the matrix has 3 rows, the factor has 4 levels (T1, T2, T3, T4)"),
    ('contrast matrix, 1-D', lambda: lmer('effort ~ Type + (1 | Subject)', _ES, contrasts={'Type': np.ones(4)}), "for 'Type': a contrast matrix must be 2-D"),
    ('contrast matrix of text', lambda: lmer('effort ~ Type + (1 | Subject)', _ES, contrasts={'Type': [['a'] * 2] * 4}), "for 'Type': list is neither a coding name nor a matrix"),
    ('contrast matrix not finite', lambda: lmer('effort ~ Type + (1 | Subject)', _ES, contrasts={'Type': np.full((4, 3), np.nan)}), "for 'Type': the contrast matrix has values that are not finite"),
    ('scale() argument', lambda: lmer('Reaction ~ scale(Days, centre = 1) + (1 | Subject)', _SL), "has no argument 'centre = 1'"),
    ('scale() argument value', lambda: lmer('Reaction ~ scale(Days, center = Days) + (1 | Subject)', _SL), "center = Days must be TRUE, FALSE or a number"),
    ('center() with arguments', lambda: lmer('Reaction ~ center(Days, 2) + (1 | Subject)', _SL), 'center(x) takes only x'),
    ('poly() degree too high', lambda: lmer('Reaction ~ poly(Days, 10) + (1 | Subject)', _SL), 'the degree (10) must be less than the number of distinct values of Days (10)'),
    ('poly() degree not whole', lambda: lmer('Reaction ~ poly(Days, 1.5) + (1 | Subject)', _SL), 'the degree must be a whole number ≥ 1, not 1.5'),
    ('& between terms', lambda: lmer('Reaction ~ Days & Subject + (1 | Subject)', _SL), "'&' in formula"),
    ('bar inside I()', lambda: lmer('Reaction ~ I(Days | 1) + (1 | Subject)', _SL), "'I(Days | 1)' must be written in parentheses"),
    ('two tildes', lambda: lmer('Reaction ~ Days ~ 1 + (1 | Subject)', _SL), "must have the form 'response ~ terms'"),
    ('offset= a factor', lambda: lmer(SLEEP, _SL, offset='Subject'), 'offset= must be numeric, not category'),
    ('weights= booleans', lambda: lmer(SLEEP, _SL, weights=np.ones(180, bool)), 'weights= must be numeric, not bool'),
    ('REML=None', lambda: lmer(SLEEP, _SL, REML=None), 'REML must be True or False, not None'),
    ('data a list', lambda: lmer(SLEEP, [1, 2]), 'data must be a pandas or polars DataFrame, not list'),
    ('response a factor', lambda: lmer('Subject ~ Days + (1 | Days)', _SL), "response 'Subject' must be numeric"),
    ('na_action=None', lambda: lmer(SLEEP, _SL, na_action=None), "na_action must be 'omit' or 'fail', not None"),
    ('subset= a number', lambda: lmer(SLEEP, _SL, subset=3), 'subset= must be a condition string or one bool per row'),
    ('predict: a column missing', lambda: _fitted().predict(_SL.drop(columns='Days')), "newdata has no column 'Days'"),
    ('predict: a new level', lambda: _fitted().predict(_SL.assign(Subject='999')), "level ['999'] of grouping factor 'Subject'"),
    ('predict: re_form not a formula', lambda: _fitted().predict(_SL, re_form='(1 | Subject)'), "not '(1 | Subject)'"),
    ('predict: re_form term not in the model', lambda: _fitted().predict(_SL, re_form='~(1 | Days)'), 're_form term (1 | Days) is not in the model'),
    ('simulate: nsim', lambda: _fitted().simulate(-1), 'nsim must be a whole number ≥ 1, not -1'),
    ('confint: level', lambda: _fitted().confint(level=1.5), 'level must be between 0 and 1, not 1.5'),
    ('confint: method', lambda: _fitted().confint(method='magic'), "unknown method 'magic'"),
    ('anova: not a model', lambda: __import__('mixednb').anova(_fitted(), 3), "is a int, not a LinearMixedModel"),
]


@pytest.mark.parametrize('call, words', [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_named(call, words):
    "Each bad input raises MixedModelError (a ValueError) whose message names the culprit."
    with pytest.raises(MixedModelError) as e:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', MixedModelWarning)
            call()
    assert words in str(e.value)


def test_notes_point_at_the_callers_line():
    "A MixedModelWarning is attributed to the user's line (here, this file), not to a line inside mixednb."
    ss = load('sleepstudy')
    ss.loc[3, 'Reaction'] = np.nan
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        lmer(SLEEP, ss)
    notes = [x for x in w if issubclass(x.category, MixedModelWarning)]
    assert notes and all(x.filename == __file__ for x in notes), [(x.filename, x.lineno) for x in notes]
