"""Estimated marginal means and pairwise contrasts against R's emmeans (tests/reference/inference14): means, SEs, df,
confidence limits and the tukey/bonferroni/holm/none p-values of the pairs, with Kenward–Roger and Satterthwaite df,
on four fits (cake, oats, ChickWeight, Machines), with and without `by`."""
import numpy as np, pytest
from mixednb import MixedModelError
from mixednb.emmeans import emmeans, reference_grid
from ref14 import REF14, as_list, fit14

DDF = {'kenward-roger': 'Kenward-Roger', 'satterthwaite': 'Satterthwaite'}

@pytest.mark.parametrize('case', REF14['emmeans'], ids=[c['id'] for c in REF14['emmeans']])
def test_emmeans(case):
    em = fit14(case['model']).emmeans(case['specs'], by=case['by'], ddf=DDF[case['ddf']])
    t, r = em.table, case['emmeans']
    for col, key in [('emmean', 'emmean'), ('SE', 'SE'), ('df', 'df'), ('lower.CL', 'lower'), ('upper.CL', 'upper')]:
        np.testing.assert_allclose(t[col], as_list(r[key]), rtol=1e-4, err_msg=col)
    if case['by']: assert [str(b) for b in t.index.get_level_values(1)] == as_list(r['by'])
    for adj, rp in case['pairs'].items():
        p = em.pairs(adj)
        assert list(p.contrast) == as_list(rp['contrast'])
        for col, key in [('estimate', 'estimate'), ('SE', 'SE'), ('df', 'df'), ('t.ratio', 't')]:
            np.testing.assert_allclose(p[col], as_list(rp[key]), rtol=1e-4, atol=1e-10, err_msg=f"{adj} {col}")
        np.testing.assert_allclose(p['p.value'], as_list(rp['p']), rtol=1e-4, atol=1e-6, err_msg=f"{adj} p")

def test_grid_weights():
    "A mean is the equal-weight average of the grid's predictions: by hand on the cakes."
    m = fit14('cake')
    grid, X = reference_grid(m)
    pred = X @ m.fixef.to_numpy()
    by_recipe = {r: pred[(grid.recipe == r).to_numpy()].mean() for r in ['A', 'B', 'C']}
    np.testing.assert_allclose(m.emmeans('recipe', ddf='Satterthwaite').table['emmean'], list(by_recipe.values()), rtol=1e-12)

def test_default_ddf_and_errors():
    m = fit14('machines')
    assert m.emmeans('Machine').ddf == 'Kenward-Roger'
    with pytest.raises(MixedModelError, match="specs='Worker' is not a factor of the model's fixed part"): m.emmeans('Worker')
    with pytest.raises(MixedModelError, match="adjust must be"): m.emmeans('Machine').pairs('sidak')
