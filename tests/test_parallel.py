"""Parallel bootstrap and profile: with n_jobs=2 (processes) the same replicates and intervals as serially with the
same seed, a user's lambda as `fun` works in the workers, and bad n_jobs are refused."""
import numpy as np, pandas as pd, pytest
from mixednb import MixedModelError
from mixednb.confint import profile_ci
from mixednb.predict import parallel_map, n_workers
from ref14 import fit14

@pytest.mark.parametrize('name', ['sleep', 'machines'])
def test_bootstrap_two_processes_same_replicates(name):
    m = fit14(name)
    serial = m.bootstrap(8, seed=11, progress=False)
    par = m.bootstrap(8, seed=11, progress=False, n_jobs=2)
    np.testing.assert_array_equal(par.to_numpy(), serial.to_numpy())
    assert par.attrs == serial.attrs
    f = lambda r: r.fixef * 2                                   # a lambda: inherited by the forked workers
    np.testing.assert_array_equal(m.bootstrap(3, seed=2, progress=False, fun=f, n_jobs=2).to_numpy(),
                                  m.bootstrap(3, seed=2, progress=False, fun=f).to_numpy())

def test_profile_two_processes_same_intervals():
    m = fit14('sleep')
    parm = ['sigma', 'Days', 'sd_(Intercept)|Subject']
    pd.testing.assert_frame_equal(profile_ci(m, parm=parm, n_jobs=2, progress=False), profile_ci(m, parm=parm, progress=False))

def _square(state, x): return state * x * x

def test_parallel_map_and_n_jobs():
    assert parallel_map(_square, range(7), 3, n_jobs=2, progress=False) == [3 * x * x for x in range(7)]
    assert n_workers(None) == 1 and n_workers(2) == 2 and n_workers(-1) >= 1
    for bad in (0, -2, 1.5, True, '2'):
        with pytest.raises(MixedModelError, match='n_jobs must be'): n_workers(bad)

def test_spawned_workers(monkeypatch):
    "Where processes cannot be forked, the state is pickled to spawned workers: the same replicates (default `fun`)."
    import multiprocessing as mp
    monkeypatch.setattr(mp, 'get_all_start_methods', lambda: ['spawn'])
    m = fit14('sleep')
    np.testing.assert_array_equal(m.bootstrap(3, seed=5, progress=False, n_jobs=2).to_numpy(),
                                  m.bootstrap(3, seed=5, progress=False).to_numpy())
