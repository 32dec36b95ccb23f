"""The plots in `mixednb.plots`: what they return, that `ax=` is honoured, their artists and labels, and that awkward fits draw."""
import warnings

import matplotlib
matplotlib.use('Agg')
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from mixednb import MixedModelError, MixedModelWarning, lmer, load
from mixednb import plots


@pytest.fixture(scope='module')
def sleep(): return lmer("Reaction ~ Days + (Days | Subject)", load('sleepstudy'))

@pytest.fixture(scope='module')
def archers(): return lmer("distance ~ bow + (1 | archer)", load('archers'))

@pytest.fixture(scope='module')
def pen(): return lmer("diameter ~ 1 + (1 | plate) + (1 | sample)", load('Penicillin'))

@pytest.fixture(scope='module')
def dyestuff2():
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', MixedModelWarning)
        return lmer("Yield ~ 1 + (1 | Batch)", load('Dyestuff2'))

@pytest.fixture(scope='module')
def uncorr(): return lmer("Reaction ~ Days + (Days || Subject)", load('sleepstudy'))


def arrows(ax): return [p for p in ax.patches if isinstance(p, FancyArrowPatch)]

def labelled(ax, y=True):
    return bool(ax.get_xlabel()) and bool(ax.get_title()) and (bool(ax.get_ylabel()) or not y)

def axes_of(n):
    fig = Figure()
    return fig, list(np.ravel(fig.subplots(1, n)))


# shrinkage

def test_shrinkage_vector_term(sleep):
    fig = plots.shrinkage_plot(sleep)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(arrows(ax)) == 18 and labelled(ax)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ('(Intercept): Reaction at Days = 0', 'Days: change in Reaction per unit of Days')
    assert 'population (β̂)' in [t.get_text() for t in ax.get_legend().get_texts()]


def test_shrinkage_arrows_run_from_no_pooling_to_partial_pooling(sleep):
    nopool, partial, pop = plots.shrinkage(sleep)
    ax = plots.shrinkage_plot(sleep).axes[0]
    starts = sorted(tuple(np.round(a._posA_posB[0], 8)) for a in arrows(ax))
    ends = sorted(tuple(np.round(a._posA_posB[1], 8)) for a in arrows(ax))
    assert starts == sorted(map(tuple, np.round(nopool.to_numpy(), 8)))
    assert ends == sorted(map(tuple, np.round(partial.to_numpy(), 8)))
    np.testing.assert_allclose(partial.to_numpy(), sleep.coef()['Subject'].to_numpy())
    np.testing.assert_allclose(pop.to_numpy(), sleep.fixef.to_numpy())


def test_shrinkage_scalar_term(archers, pen):
    ax = plots.shrinkage_plot(archers).axes[0]
    assert len(arrows(ax)) == 50 and labelled(ax) and len(ax.get_yticklabels()) == 50
    assert any(l.get_label() == 'population (β̂)' for l in ax.lines)
    for g, n in (('plate', 24), ('sample', 6)):
        ax = plots.shrinkage_plot(pen, g).axes[0]
        assert len(arrows(ax)) == n and g in ax.get_title()


def test_shrinkage_ax_and_method(sleep):
    fig, (ax,) = axes_of(1)
    assert plots.shrinkage_plot(sleep, ax=ax) is ax and ax.figure is fig
    assert len(arrows(ax)) == 18
    assert len(arrows(sleep.plot_shrinkage(ellipse=True).axes[0])) == 18


def test_shrinkage_level_without_its_own_estimate():
    d = load('sleepstudy')
    d = d[(d.Subject.astype(str) != '308') | (d.Days == 0)]
    m = lmer("Reaction ~ Days + (Days | Subject)", d)
    assert plots.no_pooling(m).loc['308'].isna().all()
    ax = plots.shrinkage_plot(m).axes[0]
    assert len(arrows(ax)) == 17 and '17 of 18' in ax.get_title()


def test_shrinkage_unknown_group(sleep):
    with pytest.raises(MixedModelError, match="unknown grouping factor 'Batch'"): plots.shrinkage_plot(sleep, 'Batch')


# caterpillar

def test_caterpillar(sleep, archers):
    fig = plots.caterpillar_plot(sleep)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert labelled(fig.axes[0]) and labelled(fig.axes[1], y=False)
    assert [a.get_title() for a in fig.axes] == ['(Intercept) | Subject', 'Days | Subject']
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    order = sleep.ranef()['Subject']['(Intercept)'].sort_values(kind='stable').index
    assert ticks == list(order)
    fig = plots.caterpillar_plot(archers, level=0.5)
    assert len(fig.axes) == 1 and '50%' in fig.get_suptitle()


def test_caterpillar_ax(sleep, pen):
    fig, axs = axes_of(2)
    assert plots.caterpillar_plot(sleep, ax=axs) is axs
    assert all(a.get_title() for a in axs)
    assert plots.caterpillar_plot(pen, 'sample', ax=axs[0]) is axs[0]
    with pytest.raises(MixedModelError, match='2 panels'): plots.caterpillar_plot(sleep, ax=axs[0])


# residuals

def test_residuals(sleep):
    fig = plots.residual_plot(sleep)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 and all(labelled(a) for a in fig.axes)
    np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets()[:, 1], sleep.residuals(scaled=True))
    q, s = fig.axes[1].collections[0].get_offsets().T
    assert np.all(np.diff(q) > 0) and np.all(np.diff(s) >= 0) and len(q) == 180
    fig, axs = axes_of(2)
    assert plots.residual_plot(sleep, ax=axs) is axs and len(fig.axes[1].collections) == 1


# profile

def test_profile(sleep):
    prof = sleep.profile(parm=['sigma', 'Days'])
    fig = plots.profile_plot(prof)
    assert isinstance(fig, Figure) and [a.get_title() for a in fig.axes] == ['sigma', 'Days']
    assert all(labelled(a) for a in fig.axes)
    ci = prof.ci()
    ends = sorted(l.get_xdata()[0] for l in fig.axes[0].lines if l.get_linestyle() == ':')
    np.testing.assert_allclose(ends, ci.loc['sigma'])
    ax = Figure().subplots()
    assert plots.profile_plot(prof, 'Days', ax=ax) is ax and ax.get_title() == 'Days'
    with pytest.raises(MixedModelError, match="'rho' is not in the profile"): plots.profile_plot(prof, 'rho')


def test_profile_of_a_model():
    m = lmer("Yield ~ 1 + (1 | Batch)", load('Dyestuff'))
    fig = m.plot_profile()
    assert [a.get_title() for a in fig.axes] == ['sd_(Intercept)|Batch', 'sigma', '(Intercept)']


# awkward fits

def test_singular_fit_draws(dyestuff2):
    assert dyestuff2.is_singular
    ax = plots.shrinkage_plot(dyestuff2).axes[0]
    assert len(arrows(ax)) == 6
    assert isinstance(plots.caterpillar_plot(dyestuff2), Figure)
    assert isinstance(plots.residual_plot(dyestuff2), Figure)
    assert isinstance(plots.profile_plot(dyestuff2, 'sigma'), Figure)


def test_two_terms_on_one_factor(uncorr):
    ax = plots.shrinkage_plot(uncorr).axes[0]
    assert len(arrows(ax)) == 18 and (ax.get_xlabel(), ax.get_ylabel()) == ('(Intercept): Reaction at Days = 0', 'Days: change in Reaction per unit of Days')
    fig = plots.caterpillar_plot(uncorr)
    assert [a.get_title() for a in fig.axes] == ['(Intercept) | Subject', 'Days | Subject']
    assert isinstance(plots.residual_plot(uncorr), Figure)

def test_issue13_pictures(sleep):
    "Issue 13: the shrinkage legend sits outside the axes, the caterpillar has one colour, profile x axes name the parameter."
    fig = plots.shrinkage_plot(sleep)
    fig.canvas.draw()
    ax = fig.axes[0]
    leg, box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert leg.y1 <= box.y0                                                # below the axes: hides no point
    cat = plots.caterpillar_plot(sleep)
    colours = {tuple(c) for a in cat.axes for coll in a.collections for c in coll.get_facecolors()}
    assert len(colours) == 1 and all(a.get_legend() is None for a in cat.axes)
    prof = plots.profile_plot(sleep, parm=['sd_(Intercept)|Subject', 'sigma', 'Days'])
    assert [a.get_xlabel() for a in prof.axes[:3]] == ['σ_(Intercept)|Subject', 'σ (residual standard deviation)', 'β Days']
