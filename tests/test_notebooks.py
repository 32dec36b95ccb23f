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
RUN = ("import sys; from nbdev.test import test_nb; "
       "ok, secs = test_nb(sys.argv[1], skip_flags=sys.argv[2].split(), basepath=sys.argv[3], showerr=True); "
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
    r = subprocess.run([sys.executable, '-c', RUN, str(nb), _skip_flags(), str(ROOT)], cwd=nb.parent,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"{nb.relative_to(ROOT)} failed:\n{r.stderr[-6000:]}"
