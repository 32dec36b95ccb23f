"""`import mixednb` is quick: matplotlib, ipywidgets (and IPython with it), scipy.stats and scipy.optimize load on
first use, not at import, and yet every method of the model is there from the start. Each check runs in a fresh
Python process (this one has long imported everything)."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAZY = ['matplotlib', 'ipywidgets', 'IPython', 'scipy.stats', 'scipy.optimize', 'mixednb.glmm']


def _run(code):
    "Run code in a fresh interpreter with this checkout first on the path; its stdout parsed as JSON."
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_import_does_not_load_heavy_modules():
    out = _run("import sys, json, mixednb\n"
               f"print(json.dumps({{'file': mixednb.__file__, 'loaded': [m for m in {LAZY!r} if m in sys.modules]}}))")
    assert Path(out['file']).resolve().parent == ROOT / 'mixednb', out['file']
    assert out['loaded'] == [], f"`import mixednb` imported {out['loaded']}"


def test_every_method_is_there_after_import():
    "Importing every module of the package by hand adds no attribute to the model classes: `import mixednb` has them all."
    mods = sorted(p.stem for p in (ROOT / 'mixednb').glob('*.py') if not p.stem.startswith('_'))
    out = _run("import json, importlib, mixednb\n"
               "from mixednb.fit import LinearMixedModel\nfrom mixednb.design import Design\nfrom mixednb.summary import Table\n"
               "before = {c.__name__: sorted(dir(c)) for c in (LinearMixedModel, Design, Table)}\n"
               f"for m in {mods!r}: importlib.import_module('mixednb.' + m)\n"
               "after = {c.__name__: sorted(dir(c)) for c in (LinearMixedModel, Design, Table)}\n"
               "print(json.dumps({k: sorted(set(after[k]) - set(before[k])) for k in after} | {'n': len(before['LinearMixedModel'])}))")
    n = out.pop('n')
    assert all(v == [] for v in out.values()), f"methods that only appear when their module is imported by hand: {out}"
    assert n > 60, n          # the methods are there: fit, summary, predict, confint, plots, explore_theta, ...


def test_lazy_names_resolve_on_first_use():
    out = _run("import sys, json, mixednb\n"
               "g = mixednb.glmer\n"
               "import mixednb.glmm\n"
               "ok = g is mixednb.glmm.glmer and mixednb.GeneralizedLinearMixedModel is mixednb.glmm.GeneralizedLinearMixedModel\n"
               "ns = {}\nexec('from mixednb import *', ns)\n"
               "try: mixednb.no_such_name; err = None\nexcept AttributeError as e: err = str(e)\n"
               "print(json.dumps({'ok': ok, 'star': sorted(k for k in ns if not k.startswith('__')), 'all': sorted(mixednb.__all__),"
               " 'dir': 'glmer' in dir(mixednb), 'err': err}))")
    assert out['ok'] and out['dir']
    assert out['star'] == out['all'] and {'lmer', 'glmer', 'GeneralizedLinearMixedModel', 'LinearMixedModel'} <= set(out['all'])
    assert out['err'] and 'no_such_name' in out['err']


def test_methods_load_what_they_need():
    "A method whose module imports matplotlib, scipy.stats or ipywidgets where it is used works from a fresh import."
    out = _run("import sys, json, warnings\nfrom mixednb import lmer, load\n"
               "m = lmer('Reaction ~ Days + (Days | Subject)', load('sleepstudy'))\n"
               "fig = m.plot_caterpillar(); z = m.plot_Z(); ex = m.explore_theta(plot=None, npts=3)\n"
               "t = m.coef_table(ddf='Satterthwaite')\n"
               "print(json.dumps({'axes': len(fig.axes), 'p': float(t['Pr(>|t|)'].iloc[1]), 'sliders': len(ex.sliders),"
               " 'loaded': [k for k in ('matplotlib', 'ipywidgets', 'scipy.stats') if k in sys.modules]}))")
    assert out['axes'] >= 1 and out['sliders'] == 3
    assert abs(out['p'] / 3.26e-06 - 1) < 0.01, out['p']          # lmerTest: Days, Pr(>|t|) 3.26e-06 (printed digits)
    assert out['loaded'] == ['matplotlib', 'ipywidgets', 'scipy.stats']
