"""Put the imports of mixed cells into cells of their own: `python tools/split_import_cells.py [notebooks...]`.

nbdev's doc build (`nbdev-docs`, `nbdev-proc-nbs`) executes every cell that holds an import so that `show_doc` can
work; a cell that mixes imports with other code then runs out of context and fails. This moves the top-level
import lines of such cells (not `#| export` cells) into a new cell just before, keeping the cell's directives and
leaving its outputs with the code that made them. Idempotent; multi-line imports are left alone."""
import json, re, sys
from pathlib import Path

IMPORT = re.compile(r'(import \S|from \S+ import )')

def _split(src):
    "(import lines, other lines) of a cell's source, or None if it should stay as it is."
    lines = src.splitlines()
    if any(l.startswith('#| export') or l.startswith('#|export') for l in lines): return None
    directives = [l for l in lines if l.startswith('#|')]
    body = [l for l in lines if not l.startswith('#|')]
    imports = [l for l in body if IMPORT.match(l)]
    if any(l.count('(') != l.count(')') or l.rstrip().endswith('\\') for l in imports): return None
    code = [l for l in body if l not in imports]
    if not imports or not any(l.strip() and not l.strip().startswith('#') for l in code): return None
    return directives + imports, directives + code

def split_notebook(path):
    "Split the mixed import cells of one notebook in place; returns how many were split."
    nb, cells, n = json.loads(Path(path).read_text()), [], 0
    for c in nb['cells']:
        parts = _split(''.join(c['source'])) if c['cell_type'] == 'code' else None
        if parts is None: cells.append(c); continue
        imp, code = parts
        cells.append(dict(cell_type='code', execution_count=None, metadata={}, outputs=[], source='\n'.join(imp)))
        c['source'] = '\n'.join(code)
        cells.append(c); n += 1
    nb['cells'] = cells
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    return n

if __name__ == '__main__':
    paths = sys.argv[1:] or sorted(str(p) for p in Path('nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in str(p))
    for p in paths:
        n = split_notebook(p)
        if n: print(f"{p}: {n} cell{'s' if n > 1 else ''} split")
