"""merTools and arm in Python: predict_interval's coverage checked by simulation from a fitted model, resim's means
and SDs converging to the conditional modes and SDs, and display() equal to arm 1.13-1's text."""
import warnings
import numpy as np, pandas as pd, pytest
from mixednb import MixedModelError, lmer, load
from mixednb.objective import lambdas
from ref14 import fit14

def sleep():
    return lmer("Reaction ~ Days + (Days | Subject)", load('sleepstudy'), data_name='sleepstudy')

def _coverage(m, reps, level, seed):
    "Share of new draws from the model (fit taken as truth, refitted to a simulated response) inside their intervals."
    rng, d = np.random.default_rng(seed), m.design
    lams, hits = lambdas(d, m.theta), []
    for k in range(reps):
        b = [m.sigma * rng.standard_normal((t.nlev, t.p)) @ lam.T for t, lam in zip(d.terms, lams)]
        mu = d.X @ m.fixef.to_numpy() + sum((t.X * bk[t.codes]).sum(1) for t, bk in zip(d.terms, b))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            r = m.refit(mu + m.sigma * rng.standard_normal(d.n))
        pi = r.predict_interval(level=level, n_sims=2000, seed=1000 + k)
        y = mu + m.sigma * rng.standard_normal(d.n)
        hits.append(((pi.lwr <= y) & (y <= pi.upr)).to_numpy())
    return float(np.mean(hits))

@pytest.mark.parametrize('name, reps', [('sleep', 20), ('cake', 10)])
def test_predict_interval_coverage(name, reps):
    cov = _coverage(fit14(name), reps, 0.95, seed=7)
    assert abs(cov - 0.95) < 0.02, cov

def test_predict_interval_shape_and_new_levels():
    m = sleep()
    pi = m.predict_interval(seed=3)
    assert list(pi.columns) == ['fit', 'upr', 'lwr'] and len(pi) == 180 and (pi.lwr < pi.upr).all()
    assert pi.equals(m.predict_interval(seed=3))                       # reproducible
    cm = m.predict_interval(seed=3, include_resid_var=False)           # the conditional mean's interval is narrower
    assert ((cm.upr - cm.lwr) < (pi.upr - pi.lwr)).all()
    new = pd.DataFrame({'Days': [5, 5, np.nan], 'Subject': ['308', '999', '308']})
    with pytest.raises(MixedModelError, match='not in the fitted data'): m.predict_interval(new)
    pn = m.predict_interval(new, allow_new_levels=True, seed=1)
    assert pn.iloc[2].isna().all() and (pn.upr - pn.lwr).iloc[1] > (pn.upr - pn.lwr).iloc[0]

def test_resim_limit():
    m = fit14('cake')                      # two grouping factors, one of them an interaction
    n = 20_000
    rs, rl = m.resim(n_sims=n, seed=2), m.ranef(long=True)
    assert len(rs) == len(rl)
    assert (np.abs(rs['mean'].to_numpy() - rl.condval.to_numpy()) < 4.5 * rl.condsd.to_numpy() / np.sqrt(n)).all()
    np.testing.assert_allclose(rs['sd'], rl.condsd, rtol=0.03)
    fig = m.plot_resim(seed=1)
    axs = [a for a in fig.axes if a.get_visible()]
    assert len(axs) == 2


ARM_SLEEP = """lmer(formula = Reaction ~ Days + (Days | Subject), data = sleepstudy)
            coef.est coef.se
(Intercept) 251.41     6.82 
Days         10.47     1.55 

Error terms:
 Groups   Name        Std.Dev. Corr 
 Subject  (Intercept) 24.74         
          Days         5.92    0.07 
 Residual             25.59         
---
number of obs: 180, groups: Subject, 18
AIC = 1755.6, DIC = 1760.3
deviance = 1751.9 """

def test_display_as_arm():
    assert str(sleep().display()) == ARM_SLEEP          # arm 1.13-1: display(lmer(Reaction ~ Days + (Days|Subject), sleepstudy))


def test_plot_resim_panels_share_the_order_of_levels():
    "The panels of one grouping factor list its levels in one order (the first term's medians), named on the first."
    from mixednb.datasets import load
    from mixednb import lmer
    m = lmer('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))
    axs = [a for a in m.plot_resim(seed=1).axes if a.get_visible()]
    labels = [t.get_text() for t in axs[0].get_yticklabels()]
    sims = m.resim(200, 1)
    med = sims[sims.term == '(Intercept)'].set_index('groupID')['median']
    assert labels == [str(v) for v in med.sort_values(kind='stable').index]
    days = sims[sims.term == 'Days'].set_index('groupID')['median'].rename(index=str).loc[labels]
    np.testing.assert_allclose(axs[1].collections[-1].get_offsets()[:, 0], days.to_numpy())
