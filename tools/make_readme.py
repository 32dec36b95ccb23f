"""Write README.md from nbs/index.ipynb without Quarto: `python tools/make_readme.py [--check]`.

Markdown cells are copied; code cells become ```python blocks (cells marked `#| hide` are skipped, `#|` directives
dropped) followed by their stored text output (stdout and results; stderr, e.g. warnings, is left out). With --check, exit 1 if README.md differs from what would be written."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _src(cell): return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _output(out):
    "Plain-text rendering of one stored output, or None."
    if out.get('output_type') == 'stream': return ''.join(out['text']) if out.get('name') == 'stdout' else None   # warnings stay in the notebook
    data = out.get('data', {})
    if 'text/plain' in data: return ''.join(data['text/plain'])
    return None

def render(nb_path=ROOT / 'nbs' / 'index.ipynb'):
    "README text for the notebook at nb_path."
    nb, parts = json.loads(Path(nb_path).read_text()), []
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'markdown': parts.append(src.strip()); continue
        if cell['cell_type'] != 'code' or '#| hide' in src: continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if code: parts.append(f"```python\n{code}\n```")
        for out in cell.get('outputs', []):
            txt = _output(out)
            if txt: parts.append(f"```\n{txt.rstrip()}\n```")
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook -->\n\n" + '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text, readme = render(), ROOT / 'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text() == text
        print('README.md is up to date' if ok else 'README.md is out of date: run python tools/make_readme.py')
        sys.exit(0 if ok else 1)
    readme.write_text(text); print('wrote README.md')
