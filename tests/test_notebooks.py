"""Every notebook in nbs/ (recursively) runs cleanly under nbdev's test runner, one test per notebook, each in a
fresh Python process as `nbdev_test` runs them: a notebook's exported cells, executed in the notebook, re-bind
methods of the package's classes (e.g. `LinearMixedModel.profile`) to the notebook's own definitions, and in one shared
process those would leak into the next notebook."""
import subprocess, sys
from pathlib import Path

import pytest
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)
# After a notebook's own cells, one more cell fits the sleep study with the notebook's `LinearMixedModel` (its own
# class where the notebook defines it, else the package's) and types the model: its repr must work in every notebook,
# fitted and unfitted, whichever modules that notebook has loaded (issue 8: `m` raised RecursionError in 03_fit).
REPR_CHECK = """
import warnings as _w
from mixednb.datasets import load as _load
_cls = globals().get('LinearMixedModel')
if _cls is None: from mixednb import LinearMixedModel as _cls
with _w.catch_warnings():
    _w.simplefilter('ignore')
    _m = _cls("Reaction ~ Days + (Days | Subject)", _load('sleepstudy')).fit()
    _u = _cls("Reaction ~ Days + (1 | Subject)", _load('sleepstudy'))
assert repr(_m).startswith('LinearMixedModel(') and 'REML criterion 1743.63' in repr(_m), repr(_m)
assert 'unfitted' in repr(_u) and str(_m)
_m
"""
RUN = ("import sys; import nbdev.test as T; from fastcore.nbio import mk_cell\n"
       "class _WithReprCheck(T.NBProcessor):\n"
       "    def __init__(self, *a, **k): super().__init__(*a, **k); self.nb.cells.append(mk_cell(sys.argv[4]))\n"
       "T.NBProcessor = _WithReprCheck\n"
       "ok, secs = T.test_nb(sys.argv[1], skip_flags=sys.argv[2].split(), basepath=sys.argv[3], showerr=True)\n"
       "sys.exit(0 if ok else 1)")


def _skip_flags():
    "The flags `nbdev_test` leaves out by default (pyproject `tst_flags`), space-separated."
    flags = get_config(NBS).tst_flags
    return flags if isinstance(flags, str) else ' '.join(flags or [])


def test_found_notebooks():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS
    assert any(p.parent.name == 'tutorials' for p in NOTEBOOKS)


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb):
    r = subprocess.run([sys.executable, '-c', RUN, str(nb), _skip_flags(), str(ROOT), REPR_CHECK], cwd=nb.parent,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"{nb.relative_to(ROOT)} failed:\n{r.stderr[-6000:]}"
