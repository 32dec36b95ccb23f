"""Tests for the bundled datasets (`mixednb.datasets`, from nbs/04_datasets.ipynb)."""
import hashlib, re
from importlib.resources import files

import pandas as pd
import pytest

from mixednb import datasets as ds

DATA = files('mixednb') / 'data'
ROWS = dict(sleepstudy=180, InstEval=73421, Penicillin=144, Pastes=60, cafes=200, archers=1000,
            Dyestuff=30, Dyestuff2=30, cake=270, ChickWeight=578, oats=72,
            Orthodont=108, Machines=54, Oxboys=234, ergoStool=36,
            cbpp=56, grouseticks=403, Contraception=1934, Mmmec=354, VerbAgg=7584)


def test_names():
    nm = ds.names()
    assert nm == sorted(nm)
    assert set(nm) == set(ROWS)
    assert set(nm) == set(ds.FACTORS), "every bundled file needs a row in FACTORS"


@pytest.mark.parametrize('name', sorted(ROWS))
def test_loads(name):
    df = ds.load(name)
    assert len(df) > 0
    assert len(df) == ROWS[name]


def _is_num(s): return bool(re.fullmatch(r'[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?', s))


@pytest.mark.parametrize('name', sorted(ROWS))
def test_column_types(name):
    df = ds.load(name)
    facs = ds.FACTORS[name]
    assert set(facs) <= set(df.columns)
    for c in df.columns:
        if c in facs:
            assert isinstance(df[c].dtype, pd.CategoricalDtype), (name, c)
            levels = list(df[c].cat.categories)
            assert all(isinstance(v, str) for v in levels), (name, c)
            assert set(levels) == set(df[c].astype(str)), (name, c)   # no unused levels, no NaN
            if all(_is_num(v) for v in levels): assert levels == sorted(levels, key=float), (name, c)
            else: assert levels == sorted(levels), (name, c)
        else:
            assert pd.api.types.is_numeric_dtype(df[c]), (name, c)


def test_specific_levels():
    ss = ds.load('sleepstudy')
    lv = list(ss.Subject.cat.categories)
    assert len(lv) == 18 and lv[:3] == ['308', '309', '310'] and lv[-1] == '372'
    ie = ds.load('InstEval')
    assert ie.d.cat.categories.size == 1128 and ie.s.cat.categories.size == 2972
    d = [int(v) for v in ie.d.cat.categories]
    assert d == sorted(d)
    assert list(ie.s.cat.categories[:3]) == ['1', '2', '3']
    assert list(ie.dept.cat.categories)[-3:] == ['12', '14', '15']
    assert list(ds.load('Pastes').cask.cat.categories) == ['a', 'b', 'c']
    assert list(ds.load('Dyestuff').Batch.cat.categories) == list('ABCDEF')
    ck = ds.load('cake')
    assert list(ck.temperature.cat.categories) == ['175', '185', '195', '205', '215', '225']
    assert pd.api.types.is_integer_dtype(ck.temp)
    cf = ds.load('cafes')
    assert list(cf.cafe.cat.categories) == [str(i) for i in range(20)]
    assert sorted(cf.afternoon.unique()) == [0, 1]
    ar = ds.load('archers')
    assert list(ar.bow.cat.categories) == ['Northwood', 'Southwood']
    assert ar.archer.cat.categories.size == 50
    assert list(ds.load('ChickWeight').Chick.cat.categories[:3]) == ['1', '2', '3']


def test_r_levels():
    assert ds.r_levels(['10', '2', '1']) == ['1', '2', '10']
    assert ds.r_levels(['b', 'a', '10', '2']) == ['10', '2', 'a', 'b']


def test_case_insensitive_and_unknown():
    assert ds.load('dyestuff').equals(ds.load('Dyestuff'))
    assert len(ds.load('SLEEPSTUDY')) == 180
    with pytest.raises(ValueError) as e: ds.load('no_such_data')
    assert 'no_such_data' in str(e.value) and 'sleepstudy' in str(e.value) and 'InstEval' in str(e.value)


def test_independent_copies():
    a = ds.load('sleepstudy')
    a.loc[0, 'Reaction'] = -1.0
    a['Subject'] = a['Subject'].cat.rename_categories(lambda v: 'x' + v)
    a['new'] = 0
    b = ds.load('sleepstudy')
    assert b.loc[0, 'Reaction'] == pytest.approx(249.56)
    assert b.Subject.iloc[0] == '308' and 'new' not in b.columns
    assert b is not ds.load('sleepstudy')


def _provenance():
    text = (DATA / 'PROVENANCE.md').read_text()
    rows = {}
    for line in text.splitlines():
        m = re.match(r'\|\s*(\S+\.csv(?:\.gz)?)\s*\|\s*(\d+)\s*\|.*\|\s*`?([0-9a-f]{64})`?\s*\|\s*$', line)
        if m: rows[m[1]] = (int(m[2]), m[3])
    return rows


def test_provenance_checksums():
    prov = _provenance()
    shipped = {f.name for f in DATA.iterdir() if f.name.endswith(('.csv', '.csv.gz'))}
    assert set(prov) == shipped
    assert 'InstEval.csv.gz' in shipped and 'InstEval.csv' not in shipped
    for fn, (nrows, sha) in prov.items():
        assert hashlib.sha256((DATA / fn).read_bytes()).hexdigest() == sha, fn
        assert len(ds.load(fn.split('.')[0])) == nrows, fn


def test_licence_notice():
    text = (DATA / 'LICENSE-DATA.md').read_text()
    for word in ('lme4', 'nlme', 'MASS', 'ChickWeight', 'GPL', 'cafes.csv', 'archers.csv'): assert word in text
