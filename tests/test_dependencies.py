"""Every package that mixednb's modules import at their top level is a runtime dependency in pyproject.toml: the README's
first command installs only those (`pip install -e .`), without the dev extras that bring nbdev and fastcore along."""
import ast, sys, tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imported_top_level():
    mods = set()
    for p in (ROOT / 'mixednb').glob('*.py'):
        for node in ast.parse(p.read_text()).body:                       # module level only: lazy imports may be optional
            if isinstance(node, ast.Import): mods |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module: mods.add(node.module.split('.')[0])
    return mods - {'mixednb', '__future__'} - set(sys.stdlib_module_names)


def test_runtime_imports_are_declared():
    deps = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']['dependencies']
    declared = {d.split('>')[0].split('=')[0].split('<')[0].split('[')[0].strip().lower().replace('_', '-') for d in deps}
    dist = packages_distributions()
    missing = {m: dist.get(m, [m]) for m in _imported_top_level()
               if not any(x.lower().replace('_', '-') in declared for x in dist.get(m, [m]))}
    assert not missing, f"imported but not in [project] dependencies: {missing}"
