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
