"""Every notebook in nbs/ (recursively) runs cleanly under nbdev's test runner, one test per notebook."""
import os
from pathlib import Path

import pytest

nbdev_test = pytest.importorskip('nbdev.test')
from nbdev.config import get_config

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
NOTEBOOKS = sorted(p for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts)


def _skip_flags():
    "The flags `nbdev_test` leaves out by default (settings.ini / pyproject `tst_flags`), as a list."
    flags = get_config(NBS).tst_flags
    return flags.split() if isinstance(flags, str) else list(flags or [])


def test_found_notebooks():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[str(p.relative_to(NBS)) for p in NOTEBOOKS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)    # test_nb also runs the cells from the notebook's folder
    ok, secs = nbdev_test.test_nb(nb, skip_flags=_skip_flags(), basepath=ROOT, showerr=True)
    assert ok, f"{nb.relative_to(ROOT)} failed after {secs:.1f}s (traceback above on stderr)"
