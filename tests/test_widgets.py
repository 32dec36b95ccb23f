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
    np.testing.assert_allclose([s.value for s in ex.sliders], m.theta)
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
