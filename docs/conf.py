"""Sphinx configuration of mixednb's offline documentation site (Sphinx + MyST-NB, no Quarto).

Do not run sphinx-build on this folder by hand: `python tools/build_docs.py` stages the Sphinx source
(nbdev-processed notebooks in docs/_build/src, with the landing page and its toctrees) and builds it into
_docs/ with this folder as the configuration directory (`sphinx-build -c docs`). The pages are the notebooks'
stored outputs (nothing is executed); the API reference is written from the objects
nbdev's `show_doc` cells name (tools/build_docs.py, `api_md`). Every asset is local:
the theme's from its pip package, MathJax and the Jupyter widgets manager from npm tarballs unpacked into
docs/_vendor by the build script.
"""
try: import tomllib
except ImportError: import tomli as tomllib   # Python 3.10
from pathlib import Path

_root = Path(__file__).resolve().parent.parent
_meta = tomllib.loads((_root / 'pyproject.toml').read_text())['project']

project = _meta['name']
author = ', '.join(a['name'] for a in _meta.get('authors', []))
copyright = author
html_title = project
smartquotes = False                         # 'auto' stays as written (code, options and R's names are quoted straight)

extensions = ['myst_nb', 'sphinx.ext.mathjax', 'sphinx.ext.githubpages']   # githubpages: writes .nojekyll

# MyST-NB: the notebooks' stored outputs, never executed here.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_output_stderr = 'show'
nb_render_markdown_format = 'myst'          # text/markdown outputs may hold $math$
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'attrs_block', 'attrs_inline']
myst_dmath_double_inline = True             # $$...$$ inside a paragraph, as Quarto allows

# Offline assets (paths relative to _static; the files come from docs/_vendor, see tools/build_docs.py).
mathjax_path = 'mathjax/tex-chtml-full.js'
# Pages with saved widget state load the standalone html-manager (renders the state, no require.js), after a shim
# that lets it typeset labels with MathJax 3.
nb_ipywidgets_js = {'widgets-mathjax-shim.js': {}, 'html-manager/embed.js': {}}

html_theme = 'furo'
html_static_path = ['_static', '_vendor']
html_css_files = ['custom.css']
html_favicon = '_static/favicon.svg'
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {'sidebar_hide_name': False, 'navigation_with_keys': True}
templates_path = []
exclude_patterns = ['**.ipynb_checkpoints']
