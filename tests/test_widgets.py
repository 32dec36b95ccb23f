"""θ sliders, driven headlessly: a slider move shows the criterion at the new θ (the same objective code as the
fit), β̂ moves with θ in an unbalanced design, and the button restores the fitted θ."""
import numpy as np, pytest
from mixednb import lmer, load
from mixednb.widgets import ThetaExplorer, theta_names, slider_range

@pytest.fixture(scope='module')
def unbalanced():
    ss = load('sleepstudy')
    return lmer("Reaction ~ Days + (Days | Subject)", ss[~(ss.Subject.isin(['308', '309', '310']) & (ss.Days > 4))])

def test_slider_moves_criterion_and_beta(unbalanced):
    m = unbalanced
    ex = ThetaExplorer(m, plot=None)
    b0 = ex.state['beta'].copy()
    ex.sliders[2].value = 0.05
    theta = np.array([m.theta[0], m.theta[1], 0.05])
    assert ex.state['criterion'] == pytest.approx(m.objective_at(theta), rel=1e-12)
    assert ex.state['criterion'] > m.objective
    assert not np.allclose(ex.state['beta'], b0)
    assert f"{ex.state['criterion']:.6g}" in ex.readout.value
    assert ex.slice_image.value[:4] == b'\x89PNG'

def test_back_to_optimum(unbalanced):
    m = unbalanced
    ex = ThetaExplorer(m, plot=None)
    for s in ex.sliders: s.value = s.min + 0.3 * (s.max - s.min)
    ex.reset.click()
    assert np.array_equal(ex.theta, m.theta)                       # θ̂ exactly, the sliders on their grid
    assert all(abs(s.value - t) <= s.step / 2 for s, t in zip(ex.sliders, m.theta))
    assert ex.state['criterion'] == pytest.approx(m.objective, rel=1e-12)

def test_sliders_respect_bounds(unbalanced):
    m = unbalanced
    assert theta_names(m) == ['Subject.(Intercept)', 'Subject.Days.(Intercept)', 'Subject.Days']
    assert slider_range(m, 0)[0] == 0 and slider_range(m, 2)[0] == 0 and slider_range(m, 1)[0] < 0

def test_custom_plot_is_called(unbalanced):
    calls = []
    ex = ThetaExplorer(unbalanced, plot=lambda mt, ax: calls.append(mt.theta.copy()) or ax.plot([0, 1]))
    ex.sliders[0].value = 0.5
    assert len(calls) == 2 and calls[-1][0] == pytest.approx(0.5) and ex.image.value[:4] == b'\x89PNG'

def test_opens_exactly_at_the_fit_despite_the_browsers_rounding(unbalanced):
    "Issue 13: a browser snaps each slider to its step and sends it back; the readout must stay the fit's."
    m = unbalanced
    ex = ThetaExplorer(m, plot=None, npts=5)
    assert np.array_equal(ex.theta, m.theta)
    assert f"{m.sigma:.6g}" in ex.readout.value and f"{m.objective:.6g}" in ex.readout.value
    for s in ex.sliders:                                             # the echo: the grid point, a few ulps off
        assert s.min <= s.value <= s.max and round((s.value - s.min) / s.step, 6).is_integer()
        s.set_state({'value': s.value * (1 + 4e-16) + 1e-300})
    assert np.array_equal(ex.theta, m.theta)
    assert ex.state['sigma'] == pytest.approx(m.sigma, rel=1e-10)
    ex.sliders[0].value = ex.sliders[0].value + ex.sliders[0].step   # one step away is the slider's own value
    assert ex.theta[0] == ex.sliders[0].value != m.theta[0]

def test_browser_moves_are_debounced_latest_wins(unbalanced):
    "Ten moves from the front end within the debounce time: one recomputation, at the last θ."
    import asyncio
    ex = ThetaExplorer(unbalanced, plot=None, npts=5, debounce=0.05)
    n0, s = ex.n_updates, ex.sliders[1]
    async def presses():
        for k in range(10): s.set_state({'value': round(s.value + s.step, 6)})
        queued = ex.n_updates
        await asyncio.sleep(0.5)
        return queued
    assert asyncio.run(presses()) == n0                              # nothing computed while keys come in
    assert ex.n_updates == n0 + 1 and ex.state['theta'][1] == s.value
    ex.sliders[0].value = 0.4                                        # set from code (no loop): at once
    assert ex.n_updates == n0 + 2 and ex.state['theta'][0] == 0.4

def test_layout_wraps_and_images_are_crisp(unbalanced):
    import io, PIL.Image
    ex = ThetaExplorer(unbalanced, npts=5)
    w = ex.widget
    assert 'mixednb-explorer' in w._dom_classes
    assert all(b.layout.flex_flow == 'row wrap' for b in w.children)
    for im, fig in ((ex.image, ex.re_fig), (ex.slice_image, ex.fig)):
        css = int(im.layout.width.rstrip('px'))
        assert im.layout.max_width == '100%'
        assert PIL.Image.open(io.BytesIO(im.value)).size[0] >= 2 * css - 1     # 2 device pixels per screen pixel
    assert sum(bool(a.get_title()) for a in ex.fig.axes) == 0 and ex.fig.get_suptitle()   # one title

def test_static_form_says_sliders_need_a_kernel(unbalanced):
    ex = ThetaExplorer(unbalanced, npts=5)
    b = ex._repr_mimebundle_()
    assert 'application/vnd.jupyter.widget-view+json' in b
    assert 'sliders need a running Python kernel' in b['text/html']
    assert b['text/html'].count('<img') == 1 and 'Box(' not in b['text/plain']
    titles = [a.get_title() for a in ex.frames((0.5, 1)).axes]
    assert len(titles) == 2 and f"{unbalanced.objective:.6g}" in titles[1]
