"""save/load of a fitted model: restored at θ̂ without refitting (criterion recomputed and checked), the same
numbers afterwards, and clear errors when the data, the formula or θ do not match."""
import json, warnings
import numpy as np, pytest
from mixednb import MixedModelError, LinearMixedModel, lmer, load
from ref14 import fit14, data_of

@pytest.mark.parametrize('name', ['sleep_unbal', 'cake', 'chick'])
def test_round_trip(tmp_path, name, monkeypatch):
    m = fit14(name)
    p = m.save(tmp_path / 'fit.json')
    calls = []
    monkeypatch.setattr(LinearMixedModel, 'fit', lambda self, *a, **k: calls.append(1))     # no refit allowed
    m2 = LinearMixedModel.load(p, data_of(name))
    assert not calls
    assert m2.objective == pytest.approx(m.objective, rel=1e-12)
    np.testing.assert_allclose(m2.theta, m.theta, rtol=0, atol=0)
    np.testing.assert_allclose(m2.fixef, m.fixef, rtol=1e-10)
    np.testing.assert_allclose(m2.vcov, m.vcov, rtol=1e-8)
    assert m2.optsum['restored_from'] == str(p) and m2.is_fitted

def test_mismatches(tmp_path):
    d = load('sleepstudy')
    p = lmer("Reaction ~ Days + (Days | Subject)", d).save(tmp_path / 's.json')
    with pytest.raises(MixedModelError, match="the number of rows differ"): LinearMixedModel.load(p, d.iloc[1:])
    with pytest.raises(MixedModelError, match="term Days \\| Subject differ|term \\(Days \\| Subject\\)|Subject"):
        LinearMixedModel.load(p, d.assign(Subject=d.Subject.sample(frac=1, random_state=1).to_numpy()))
    rec = json.loads(p.read_text()); rec['formula'] = "Reaction ~ Days + (1 | Subject)"
    (tmp_path / 'f.json').write_text(json.dumps(rec))
    with pytest.raises(MixedModelError, match="random-effects terms are"): LinearMixedModel.load(tmp_path / 'f.json', d)
    with pytest.raises(MixedModelError, match="cannot read a saved fit"): LinearMixedModel.load(tmp_path / 'none.json', d)


# --- GLMMs: pickling and save/load (nbs/15c_glmm_inference.ipynb). Cases: a binomial cbind response, a Poisson
# --- model with prior weights and an offset, a negative binomial with θ estimated (glmer_nb) and an offset.
import pickle
import pandas as pd
from mixednb import glmer, glmer_nb, GeneralizedLinearMixedModel


def _glmm_cases():
    cb, gt = load('cbpp'), load('grouseticks')
    gt = gt.assign(w=1 + (np.arange(len(gt)) % 3) / 2, off=np.log(gt.HEIGHT.to_numpy() / 500))   # weights 1, 1.5, 2
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return {
            'binomial': (glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb), cb, {}),
            'poisson': (glmer("TICKS ~ YEAR + (1 | BROOD) + (1 | LOCATION)", gt, family='poisson', weights='w', offset='off'),
                        gt, dict(weights='w', offset='off')),
            'negbin': (glmer_nb("TICKS ~ YEAR + offset(off) + (1 | BROOD)", gt), gt, {}),
        }

_GLMM = {}

def glmm_case(name):
    if not _GLMM: _GLMM.update(_glmm_cases())
    return _GLMM[name]


def _same_fit(a, b, data, exact=True):
    "The numbers a fitted GLMM gives: equal (pickle) or equal to PIRLS's tolerance (load, which reruns PIRLS)."
    tol = dict(rtol=0, atol=0) if exact else dict(rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.theta, a.theta, rtol=0, atol=0)
    np.testing.assert_allclose(b.fixef, a.fixef, rtol=0, atol=0)
    assert b.objective == pytest.approx(a.objective, rel=0 if exact else 1e-10, abs=0 if exact else 1e-10)
    assert b.deviance == pytest.approx(a.deviance, rel=0 if exact else 1e-8)
    np.testing.assert_allclose(b.vcov, a.vcov, **tol)
    np.testing.assert_allclose(b.predict(type='response'), a.predict(type='response'), **tol)
    np.testing.assert_allclose(b.predict(data.iloc[:7], type='response'), a.predict(data.iloc[:7], type='response'), **tol)
    for x, y in zip(b.condvar(), a.condvar()): np.testing.assert_allclose(x, y, rtol=1e-7 if not exact else 0, atol=1e-12)
    assert b.family.name == a.family.name and b.family.link.name == a.family.link.name and b.family.theta == a.family.theta


@pytest.mark.parametrize('name', ['binomial', 'poisson', 'negbin'])
def test_glmm_pickle_round_trip(name):
    m, data, _ = glmm_case(name)
    m2 = pickle.loads(pickle.dumps(m))
    _same_fit(m, m2, data)
    assert m2.problem is not m.problem and m2.notes == m.notes and m2.optsum.keys() == m.optsum.keys()
    assert m2.family.dev_resids(np.array([2.0]), np.array([1.5]), np.ones(1)) == m.family.dev_resids(np.array([2.0]), np.array([1.5]), np.ones(1))
    r = m2.refit(m.problem.y)                                            # the rebuilt problem fits
    assert r.objective == pytest.approx(m.objective, rel=1e-7)


def test_glmm_pickle_unfitted_and_agq():
    cb = load('cbpp')
    u = GeneralizedLinearMixedModel("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb)
    u2 = pickle.loads(pickle.dumps(u))
    assert not u2.is_fitted
    assert u2.fit().objective == pytest.approx(glmm_case('binomial')[0].objective, rel=1e-9)
    a = glmer("cbind(incidence, size - incidence) ~ period + (1 | herd)", cb, nAGQ=9)
    assert pickle.loads(pickle.dumps(a)).lme4_objective == a.lme4_objective


@pytest.mark.parametrize('name', ['binomial', 'poisson', 'negbin'])
def test_glmm_save_load(tmp_path, name, monkeypatch):
    m, data, args = glmm_case(name)
    p = m.save(tmp_path / 'glmm.json', model_args=args)                 # weights and offset stored as column names
    calls = []
    monkeypatch.setattr(GeneralizedLinearMixedModel, 'fit', lambda self, *a, **k: calls.append(1))   # no refit allowed
    m2 = GeneralizedLinearMixedModel.load(p, data)
    assert not calls and m2.optsum['restored_from'] == str(p)
    _same_fit(m, m2, data, exact=False)
    assert m2.npar == m.npar                                             # an estimated θ of the negative binomial counts


def test_glmm_load_mismatches(tmp_path):
    m, data, _ = glmm_case('binomial')
    p = m.save(tmp_path / 'g.json')
    with pytest.raises(MixedModelError, match='the data do not match'):
        GeneralizedLinearMixedModel.load(p, data.assign(incidence=np.minimum(data.incidence[::-1].to_numpy(), data['size'])))
    with pytest.raises(MixedModelError, match='the data do not match'):                      # other numbers of trials
        GeneralizedLinearMixedModel.load(p, data.assign(size=data['size'] + 1))
    with pytest.raises(MixedModelError, match="LinearMixedModel.load"):
        GeneralizedLinearMixedModel.load(lmer("Reaction ~ Days + (1 | Subject)", load('sleepstudy')).save(tmp_path / 'l.json'),
                                         load('sleepstudy'))
    assert isinstance(LinearMixedModel.load(p, data), GeneralizedLinearMixedModel)   # load_fit reads the kind of fit


def test_glmm_copy_is_shallow():
    "copy.copy (refit, at_theta) shares the problem: pickling's rebuild is for pickling only."
    import copy
    m = glmm_case('binomial')[0]
    c = copy.copy(m)
    assert c.problem is m.problem and c._fit is m._fit and c.design is m.design
    assert m.at_theta(m.theta).problem is m.problem
