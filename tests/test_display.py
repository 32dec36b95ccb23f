"""Rich displays: the HTML summary and design, and the pictures of Z, Λθ and L's blocks (mixednb.display)."""
import warnings
from unittest.mock import patch

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.sparse as sp

from mixednb import lmer, load, LinearMixedModel
import mixednb.display as D


def _fit(name, formula, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return lmer(formula, load(name), data_name=name, **kw)


@pytest.fixture(scope='module')
def sleep(): return _fit('sleepstudy', "Reaction ~ Days + (Days | Subject)")

@pytest.fixture(scope='module')
def cafes(): return _fit('cafes', "wait ~ 1 + afternoon + (1 + afternoon | cafe)")

@pytest.fixture(scope='module')
def pen(): return _fit('Penicillin', "diameter ~ 1 + (1 | plate) + (1 | sample)")

@pytest.fixture(scope='module')
def dye2(): return _fit('Dyestuff2', "Yield ~ 1 + (1|Batch)")


def _gids(ax, gid): return [l for l in ax.get_lines() if l.get_gid() == gid]
def _top_labels(ax): return [t.get_text().replace('\n', ' ') for t in ax.child_axes[0].get_xticklabels()]


# --- HTML ---------------------------------------------------------------------------------------------------------

def test_summary_html_has_the_summary_numbers(sleep):
    h = sleep._repr_html_()
    for s in ['1743.6', '612.09', '35.07', '654.94', '24.740', '5.922', '25.592', '0.07', '251.405', '10.467', '6.825',
              '1.546', '17.000', '36.838', '6.771', '&lt; 2e-16', '3.26e-06', '***', '-0.138', '-3.9536', '5.1793',
              'Number of obs:', 'Subject, 18', f"{sleep.optsum['feval']} evaluations", 'Pr(&gt;|t|)', 'Correlation of fixed effects']:
        assert s in h, s
    assert '<script' not in h and 'http' not in h and '<link' not in h        # self-contained
    assert 'color:inherit' in h
    assert str(sleep) == str(sleep.summary())                                # print(m) is the text summary
    assert repr(sleep).startswith('LinearMixedModel(') and len(repr(sleep)) < 200   # the repr is short (issue 8)


def test_summary_html_escapes_user_strings():
    m = _fit('sleepstudy', "Reaction ~ Days + (Days | Subject)")
    m.data_name = '<img src=x onerror=alert(1)> & "q"'
    h = m._repr_html_()
    assert '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;' in h and '<img' not in h


def test_summary_html_singular_note(dye2):
    h = dye2._repr_html_()
    assert 'Boundary (singular) fit' in h and 'estimated as 0' in h and '(1 | Batch)' in h
    assert 'rgb(217,119,6)' in h                                              # the warning style
    assert 'Correlation of fixed effects' not in h                            # p = 1
    assert '0.00' in h and '13.81' in h and '161.8' in h


def test_summary_html_ml_and_plain():
    m = _fit('sleepstudy', "Reaction ~ Days + (Days | Subject)", REML=False)
    h = m._repr_html_()
    for s in ['AIC', 'BIC', 'logLik', 'deviance', 'df.resid', f"{m.aic:.1f}", f"{m.bic:.1f}", f"{m.loglik:.1f}", '>174<']:
        assert s in h, s
    assert 'REML criterion' not in h
    plain = D.summary_html(m, ddf=None)
    assert 'Pr(&gt;|t|)' not in plain and 't value' in plain
    with pytest.raises(ValueError): D.summary_html(m, ddf='KR')


def test_unfitted_model_has_no_html():
    m = LinearMixedModel("Reaction ~ Days + (Days | Subject)", load('sleepstudy'))
    assert m._repr_html_() is None and 'unfitted' in repr(m)


def test_design_html(cafes, pen):
    h = cafes.design._repr_html_()
    for s in ['n = <b>200</b>', 'q = <b>40</b>', '(Intercept), afternoon', '(1 + afternoon | cafe)', 'θ[0:3]', '0, −∞, 0', '0–39', 'θ2']:
        assert s in h, s
    hp = pen.design._repr_html_()
    assert 'θ[0:1]' in hp and 'θ[1:2]' in hp and '0–23' in hp and '24–29' in hp and '⊕' in hp


# --- pictures -----------------------------------------------------------------------------------------------------

def test_plot_Z_cafes(cafes):
    fig = cafes.plot_Z()
    ax = fig.axes[0]
    assert len(_gids(ax, 'separator')) == 1
    assert _top_labels(ax) == ['(Intercept) | cafe', 'afternoon | cafe']
    img = ax.images[0].get_array()
    assert img.shape == (200, 40)
    # columns reordered: the first 20 are the intercepts (every row has one), the last 20 the afternoon slopes
    assert (img[:, :20].filled(0) != 0).sum(axis=1).tolist() == [1] * 200
    assert (img[:, 20:].filled(0) != 0).sum() == load('cafes')['afternoon'].sum()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    fig.canvas.draw()


def test_plot_Z_terms_and_colorbar(sleep, pen):
    ax = pen.plot_Z().axes[0]
    assert len(_gids(ax, 'separator')) == 1 and _top_labels(ax) == ['(Intercept) | plate', '(Intercept) | sample']
    f = sleep.plot_Z()
    assert len(f.axes) == 2                                                   # Days makes Z non-binary: a colorbar
    assert _top_labels(f.axes[0]) == ['(Intercept) | Subject', 'Days | Subject']


def test_plot_Z_binned_never_densifies(pen):
    def no(*a, **k): raise AssertionError("densified")
    with patch.object(sp.csc_matrix, 'toarray', no), patch.object(sp.csr_matrix, 'toarray', no), \
         patch.object(sp.coo_matrix, 'toarray', no), patch.object(sp.csc_matrix, 'todense', no):
        fig = D.plot_Z(pen.design, max_rows=10)                               # forced onto the binned path
        fig.canvas.draw()
    ax = fig.axes[0]
    assert 'binned' in ax.get_title() and len(ax.images) == 0 and len(ax.collections) == 1
    assert len(_gids(ax, 'separator')) == 1 and _top_labels(ax) == ['(Intercept) | plate', '(Intercept) | sample']


def test_plot_Lambda(cafes, pen):
    ax = cafes.plot_Lambda().axes[0]
    lam = D.lambdas(cafes.design, cafes.theta)[0]
    La = ax.images[0].get_array().filled(0)
    assert La.shape == (40, 40) and np.allclose(La[2:4, 2:4], lam) and np.allclose(La[:2, 2:], 0)
    assert len(_gids(ax, 'separator')) == 0 and _top_labels(ax) == ['cafe: 20 copies of λ (2×2)']
    assert any(t.get_gid() == 'lambda-text' for t in ax.texts)
    axp = pen.plot_Lambda(theta=[1.0, 2.0]).axes[0]
    assert len(_gids(axp, 'separator')) == 1
    assert np.allclose(np.diag(axp.images[0].get_array().filled(0)), [1.0] * 24 + [2.0] * 6)
    axl = D.plot_Lambda(pen, max_q=10).axes[0]                                # the pattern view
    assert len(axl.images) == 0 and len(axl.collections[0].get_offsets()) == 30


def test_plot_L_blocks(sleep, pen):
    ax = pen.plot_L_blocks().axes[0]
    kinds = sorted(p.get_gid() for p in ax.patches if (p.get_gid() or '').startswith('L-block'))
    assert kinds == sorted(['L-block-block-diagonal', 'L-block-sparse', 'L-block-dense'] + ['L-block-X|y rows'] * 3)
    assert ax.get_title().startswith('Blocks of L at θ̂: 24 | 6 | X')
    assert [t.get_text() for t in ax.get_xticklabels()] == ['plate\n24', 'sample\n6', 'X|y\n2']
    assert len(ax.images) == 1                                                # small: the nonzero pattern
    axs = sleep.plot_L_blocks().axes[0]
    assert axs.get_title().startswith('Blocks of L at θ̂: 36 | X')
    big = D.plot_L_blocks(pen, max_q=5).axes[0]
    assert len(big.images) == 0 and any('nnz' in t.get_text() for t in big.texts)
    with pytest.raises(ValueError, match='fitted'):
        D.plot_L_blocks(LinearMixedModel("Reaction ~ Days + (Days | Subject)", load('sleepstudy')))


def test_ax_is_honoured(sleep):
    fig, axs = plt.subplots(1, 3, figsize=(12, 4), layout='constrained')
    try:
        assert sleep.plot_Z(ax=axs[0]) is axs[0]
        assert sleep.plot_Lambda(ax=axs[1]) is axs[1]
        assert sleep.plot_L_blocks(ax=axs[2]) is axs[2]
        assert all(a.figure is fig for a in axs) and all(a.get_title() for a in axs)
        fig.canvas.draw()
    finally: plt.close(fig)


def test_figures_are_not_left_open_in_pyplot(sleep):
    n = len(plt.get_fignums())
    sleep.plot_Z(); sleep.plot_Lambda(); sleep.plot_L_blocks()
    assert len(plt.get_fignums()) == n                                        # returned, shown once, never again by pyplot
