"""Execute notebooks in place so their stored outputs are fresh: `python tools/execute_nbs.py [nbs/NN_x.ipynb ...]`.

Runs each notebook top to bottom in its own folder with execnb (nbdev's executor) and writes the outputs back;
stops with a non-zero exit on the first failing cell. The state of ipywidgets is not kept: the docs site never draws
live widgets (it shows static frames), and the state made the notebooks megabytes. Run `nbdev-clean` afterwards."""
import os, sys
from pathlib import Path
from fastcore.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

def _save_widget_state(nb):
    "Drop any saved ipywidgets state (the site shows static frames instead), and close the run's widgets."
    nb.metadata.pop('widgets', None)
    try: from ipywidgets import Widget
    except ImportError: return
    Widget.close_all()

def execute(path):
    path = Path(path).resolve()
    nb = read_nb(path)
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        sh = CaptureShell()
        sh.run_all(nb, exc_stop=True)
    finally: os.chdir(cwd)
    _save_widget_state(nb)
    write_nb(nb, path)
    print(f"executed {path.name}")

if __name__ == "__main__":
    paths = sys.argv[1:] or sorted(str(p) for p in Path("nbs").glob("*.ipynb"))
    if len(paths) == 1: execute(paths[0])
    else:   # one process per notebook, as the tests run them: a notebook's exported cells re-bind the package's methods
        import subprocess
        for p in paths: subprocess.run([sys.executable, __file__, p], check=True)
