"""Build the documentation site into _docs/ without Quarto: `python tools/build_docs.py`.

`nbdev-docs` (Quarto) stays the project's nbdev renderer where Quarto exists; this is a second renderer that
needs only the `docs` extra (Sphinx, MyST-NB, Furo) and, once, npm for two JavaScript bundles. Nothing is
executed but what nbdev itself runs to write the API reference, and nothing is fetched when a page is viewed.

1. nbdev's doc processors (`nbdev.processors.FilterDefaults`, the ones `nbdev-proc-nbs`/`nbdev-docs` run:
   front matter, `show_doc` for every exported function and class, doc links, hidden cells removed) on every
   notebook that `nbglob` finds under nbs/, two at a time. Two deviations: each notebook is processed in its
   own folder (as Jupyter runs it; nbdev-docs runs from the project root, so relative paths break), and where
   a cell mixes imports with other code (nbdev warns about these) only its import statements run (nbdev runs
   the whole cell, which fails when the cell needs state from cells nbdev never runs).
2. The processed notebooks are turned from Quarto's dialect into MyST-NB's (small and local: see `myst_nb`):
   the YAML front matter becomes the `# Title` and its description; each `show_doc` cell becomes a markdown
   cell written from the object it names (`api_md`: a short signature, the docstring's sections as lists; every
   API entry a section of the page, with nbdev's anchor);
   `#| echo/output/include/code-fold` become MyST-NB cell tags; widgets are never drawn live (a page has no
   kernel: sliders would move and update nothing): an output's widget view is dropped and its static form (the θ
   explorer's note and frames) stays, the notebook's widget state is not used; stderr outputs (raw warnings) are
   kept, and noted, so that check_site fails on them: their cause is to be fixed; test statements (assert,
   test_*(), np.testing.*()) are cut from the code shown, and a cell that only tests loses its input. Pages are named as nbdev names them (03_fit ->
   fit.html), so nbdev's doc links (absolute, to the configured doc host) are made relative after the build.
   The staged Sphinx source is docs/_build/src: index (nbs/index.ipynb plus the navigation: "Tutorials" =
   nbs/tutorials/*.ipynb, "API" = nbs/NN_*.ipynb, lmer's and glmer's pages first, then in order, "More" = any
   other notebook).
3. MathJax 3 and @jupyter-widgets/html-manager (pinned, integrity-checked `npm pack` tarballs) are unpacked
   into docs/_vendor once; later builds reuse them offline.
4. `sphinx-build -W --keep-going` (docs/conf.py) into docs/_build/html, copied to _docs/; then the pages
   are checked for remote scripts, stylesheets or images (there must be none).

Options: --no-proc reuses docs/_build/src as staged (CSS/conf tweaks); -j N sets nbdev's worker count.
Check the result in a browser with `python tools/check_site.py`.
"""
import argparse, ast, base64, contextlib, hashlib, io, json, os, re, shutil, subprocess, sys, tarfile, tempfile, time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / 'docs'
BUILD = DOCS / '_build'
SRC = BUILD / 'src'
VENDOR = DOCS / '_vendor'
OUT = ROOT / '_docs'
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'

# npm tarballs: spec, its sha512 integrity, and (path in the tarball, path under docs/_vendor, suffixes) rows:
# a path ending in '/' copies that folder's files (those ending in `suffixes` only, if given; not its subfolders then).
NPM = [
    ('mathjax@3.2.2',
     'sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==',
     [('package/es5/tex-chtml-full.js', 'mathjax/tex-chtml-full.js', None),
      ('package/es5/output/chtml/fonts/woff-v2/', 'mathjax/output/chtml/fonts/woff-v2/', None),
      ('package/LICENSE', 'mathjax/LICENSE', None)]),
    ('@jupyter-widgets/html-manager@1.0.15',
     'sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==',
     [('package/dist/embed.js', 'html-manager/embed.js', None),
      ('package/dist/embed.js.LICENSE.txt', 'html-manager/embed.js.LICENSE.txt', None),
      ('package/dist/', 'html-manager/', ('.woff2', '.woff', '.ttf')),   # Font Awesome etc., fetched next to embed.js
      ('package/LICENSE', 'html-manager/LICENSE', None)]),
]

def log(*a): print('[build_docs]', *a, flush=True)

# ---------------------------------------------------------------- 1. nbdev's processors (in worker processes)
_EXEC_DIRS = {'export', 'exports', 'exporti', 'exec_doc'}

def is_test_stmt(st):
    "A top-level statement that only tests: assert, test_*(…), np.testing.*(…), or a for/with whose body is only such."
    if isinstance(st, ast.Assert): return True
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
        f = ast.unparse(st.value.func)
        return (f.startswith(('np.testing.', 'numpy.testing.', 'pd.testing.', 'test_'))
                or f.split('.')[-1].startswith(('assert_', 'test_')))
    if isinstance(st, (ast.For, ast.With)) and st.body and not getattr(st, 'orelse', None):
        return all(is_test_stmt(b) for b in st.body)
    return False

def _test_lines(stmts):
    """Line numbers (0-based) of the test statements among stmts, at any depth of for/with/if/while bodies; a compound
    statement left with nothing but tests goes whole. (line set, whether every statement was a test)"""
    gone, all_tests = set(), True
    for st in stmts:
        if is_test_stmt(st): gone.update(range(st.lineno - 1, st.end_lineno)); continue
        bodies = [getattr(st, k) for k in ('body', 'orelse', 'finalbody') if isinstance(getattr(st, k, None), list)]
        if isinstance(st, (ast.For, ast.While, ast.If, ast.With, ast.Try)) and bodies:
            sub = [_test_lines(b) for b in bodies if b]
            if sub and all(t for _, t in sub): gone.update(range(st.lineno - 1, st.end_lineno)); continue
            for g, _ in sub: gone |= g
        all_tests = False
    return gone, all_tests

def drop_tests(src):
    "A code cell's source without its test statements (None when nothing else is left but comments)."
    try: tree = ast.parse(src)
    except SyntaxError: return src
    gone, _ = _test_lines(tree.body)
    # a line that also holds a statement that is not a test stays whole
    compound = (ast.For, ast.While, ast.If, ast.With, ast.Try)
    keepers = {n.lineno - 1 for n in ast.walk(tree)
               if isinstance(n, ast.stmt) and not isinstance(n, compound) and not is_test_stmt(n) and n.lineno - 1 in gone}
    gone -= keepers
    lines = src.split('\n')
    # on a kept line, cut out the test statements themselves: `L = f(x); test_close(L, M)` shows `L = f(x)`, and a test
    # that is the whole body of a clause on its header line (`except E as e: test_eq(...)`) becomes `pass`
    cuts = sorted(((n.lineno - 1, n.col_offset, n.end_col_offset, n) for n in ast.walk(tree)
                   if isinstance(n, ast.stmt) and is_test_stmt(n) and n.lineno == n.end_lineno and n.lineno - 1 not in gone),
                  key=lambda c: (c[0], -c[1]))
    for i, a, b, n in cuts:
        l = lines[i].encode()                                      # ast's offsets count UTF-8 bytes
        head, tail = l[:a].rstrip(), l[b:]
        if head.endswith(b';'): head, tail = head[:-1].rstrip(), tail
        elif tail.lstrip().startswith(b';'):
            tail = tail.lstrip()[1:].lstrip()
            head = l[:a] if not head.strip() else head + b' '      # the line's indentation, or a space after what precedes
        elif head.endswith(b':'): tail = b' pass' + tail
        lines[i] = (head + tail).decode()
    if lines == src.split('\n') and not gone: return src
    keep = [l for i, l in enumerate(lines) if i not in gone]
    while keep and not keep[-1].strip(): keep.pop()
    return '\n'.join(keep) if any(l.strip() and not l.strip().startswith('#') for l in keep) else None

_BOILERPLATE = ('warnings.simplefilter', 'warnings.filterwarnings', 'np.random.seed')

def _reads(node):
    "Names a piece of code reads (loads), at any depth."
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

def _binds(st):
    "Names a simple assignment binds, or None when st is not one (only plain names and tuples of them count)."
    if isinstance(st, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = st.targets if isinstance(st, ast.Assign) else [st.target]
        names = set()
        for t in targets:
            for n in ast.walk(t):
                if isinstance(n, (ast.Attribute, ast.Subscript, ast.Starred)) and not isinstance(n, ast.Starred): return None
                if isinstance(n, ast.Name): names.add(n.id)
        return names
    return None

def _test_reads(src):
    "Names read by the test statements of a cell's source (at any depth of for/with/if bodies)."
    try: tree = ast.parse(src)
    except SyntaxError: return set()
    return set().union(set(), *(_reads(n) for n in ast.walk(tree) if isinstance(n, ast.stmt) and is_test_stmt(n)))

_SUPPORT_CALLS = ('json.load', 'json.loads', 'io.StringIO', 'io.BytesIO', 'threading.Event')

_LITERAL_CALLS = {'dict', 'list', 'tuple', 'set', 'np.array', 'np.asarray', 'numpy.array'}

def _literal(node):
    "Whether node is typed-in data: constants in lists, tuples, dicts and `np.array(…)`/`dict(…)` calls, nothing else."
    ok = (ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.UnaryOp, ast.BinOp, ast.Load, ast.operator,
          ast.unaryop, ast.keyword)
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Call)]
    if any(ast.unparse(c.func) not in _LITERAL_CALLS for c in calls): return False
    funcs = {id(m) for c in calls for m in ast.walk(c.func)}
    return all(isinstance(n, ok) or isinstance(n, ast.Call) or id(n) in funcs for n in ast.walk(node))

def _support(value, dropped):
    """Whether an assigned value only serves tests: read from tests/ (a reference file), a buffer or event of the test
    harness (`io.StringIO()`, `buf.getvalue()`), or made from such values (`dropped`)."""
    if any(isinstance(n, ast.Constant) and isinstance(n.value, str) and 'tests/' in n.value
           for n in ast.walk(value)): return True
    calls = [ast.unparse(n.func) for n in ast.walk(value) if isinstance(n, ast.Call)]
    if any(c.startswith(_SUPPORT_CALLS) or c.endswith(('.getvalue', '.splitlines')) for c in calls): return True
    return bool(_reads(value) & dropped)

def _dead_lines(stmts, later, fed=None, support=None):
    """Lines (0-based) of the statements in stmts that only fed the tests removed from the page: assignments to names
    nothing shown afterwards reads, with/for blocks left with nothing else, and `warnings.simplefilter`-like
    boilerplate inside them. `later`: the names read by what is shown after stmts; `fed`: the names the tests read;
    `support`: {line: 'harness' or 'typed'} of the assignments that may go (typed-in data only when a test reads it).
    (lines, names still read)"""
    gone, used = set(), set(later)
    for st in reversed(stmts):
        names = _binds(st)
        kind = 'typed' if support is None else support.get(st.lineno)
        if (names is not None and not names & used and kind
                and (kind == 'harness' or fed is None or names & fed)):
            gone.update(range(st.lineno - 1, st.end_lineno)); continue
        if isinstance(st, (ast.With, ast.For, ast.If)) and not getattr(st, 'orelse', None):
            g, inner = _dead_lines(st.body, used, fed, support)
            rest = [b for b in st.body if not set(range(b.lineno - 1, b.end_lineno)) <= g]
            if all(isinstance(b, ast.Expr) and isinstance(b.value, ast.Call)
                   and ast.unparse(b.value.func).startswith(_BOILERPLATE) for b in rest):
                gone.update(range(st.lineno - 1, st.end_lineno)); continue
            head = st.items if isinstance(st, ast.With) else [st.test if isinstance(st, ast.If) else st.iter]
            gone |= g; used |= inner | set().union(*(_reads(h) for h in head))
            continue
        used |= _reads(st)
    return gone, used

def drop_test_support(sources, originals=None, shows=None):
    """The code cells' sources (tests already dropped) without the statements that only fed those tests: a reference
    loaded from tests/, a buffer read by nothing shown, a value only asserted on. Read from the last cell back, so
    that a name a later cell shows keeps its assignment. `originals`: the sources with their tests, whose tests'
    names are the only ones whose assignments may go (an example that assigns and shows nothing stays); `shows`: per
    cell, whether it has a figure among its outputs (whose drawing assignments stay). None where nothing but comments is
    left."""
    fed = set().union(set(), *(_test_reads(o) for o in originals)) if originals is not None else None
    support, marked = set(), {}     # names now holding test-support values (in the order the cells run); such assignments
    for k, src in enumerate(sources):
        try: tree = ast.parse(src)
        except SyntaxError: continue
        for st in (n for n in ast.walk(tree) if isinstance(n, ast.stmt)):
            names = _binds(st)
            if names and getattr(st, 'value', None) is not None:
                if _support(st.value, support): support |= names; marked[k, st.lineno] = 'harness'
                else:
                    support -= names
                    if _literal(st.value): marked[k, st.lineno] = 'typed'   # droppable when a test reads it; what is made from it stays
            if isinstance(st, ast.For) and _reads(st.iter) & support:          # for r in ref['models']: r is support
                support |= {n.id for n in ast.walk(st.target) if isinstance(n, ast.Name)}
            if isinstance(st, ast.If) and _reads(st.test) & support:            # if REF: … only what the reference feeds
                for b in ast.walk(st):
                    if isinstance(b, ast.stmt) and _binds(b): support |= _binds(b); marked[k, b.lineno] = 'harness'
            if isinstance(st, ast.With) and set().union(*(_reads(i) for i in st.items)) & support:   # redirect_stdout(buf)
                for b in ast.walk(st):
                    if isinstance(b, ast.stmt) and _binds(b): support |= _binds(b); marked[k, b.lineno] = 'harness'
    used, out = set(), [None] * len(sources)
    for k in range(len(sources) - 1, -1, -1):
        src = sources[k]
        try: tree = ast.parse(src)
        except SyntaxError: out[k] = src; used |= set(re.findall(r'\w+', src)); continue
        if shows is not None and shows[k]: out[k] = src; used |= _reads(tree); continue
        gone, inner = _dead_lines(tree.body, used, fed, {ln: kind for (kk, ln), kind in marked.items() if kk == k})
        used |= inner
        keep = [l for i, l in enumerate(src.split('\n')) if i not in gone]
        while keep and not keep[-1].strip(): keep.pop()
        out[k] = '\n'.join(keep) if any(l.strip() and not l.strip().startswith('#') for l in keep) else None
    return out

def _import_only(trees):
    "Source of the top-level imports of a cell that mixes imports with other code, else None."
    imps = [t for t in trees if isinstance(t, (ast.Import, ast.ImportFrom))]
    return '\n'.join(ast.unparse(t) for t in imps) if imps and len(imps) < len(trees) else None

def _filter():
    "nbdev's FilterDefaults, its exec_show_docs running only the imports of mixed import/code cells."
    import nbdev.processors as P

    class exec_show_docs(P.exec_show_docs):
        def __call__(self, cell):
            if (cell.cell_type == 'code' and cell.source and P.cell_lang(cell) == 'python' and hasattr(self, 'k')
                    and self.nb.has_docs_ and not (cell.directives_.keys() & _EXEC_DIRS)
                    and str(cell.directives_.get('eval', '')).lower() != 'false'):
                src = _import_only(cell.parsed_() or [])
                if src is not None:
                    self.k.run_cell(src)
                    if self.k.exc: raise Exception(f"Error in cell {cell.idx_} (its imports):\n{src}\n{self.k.exc!r}")
                    return
            return super().__call__(cell)

    class Filter(P.FilterDefaults):
        def base_procs(self): return [exec_show_docs if p is P.exec_show_docs else p for p in super().base_procs()]
    return Filter()

def nbdev_process(src):
    "Run nbdev's doc processors on notebook `src` in its own folder; the processed notebook as a dict."
    import warnings
    from fastcore.nbio import read_nb, nb2str
    os.environ['IN_TEST'] = '1'
    os.chdir(Path(src).parent)
    try:
        from ipywidgets import Widget
        Widget.close_all()                       # widget state from the previous notebook in this worker
    except ImportError: pass
    nb = read_nb(src)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):   # prints of the cells nbdev runs
        warnings.simplefilter('ignore')          # "cells containing imports and other code": handled above
        _filter()(nb)
    return json.loads(nb2str(nb))

# ---------------------------------------------------------------- 2. Quarto dialect -> MyST-NB
def _src(cell): return ''.join(cell['source']) if isinstance(cell.get('source'), list) else cell.get('source', '')
def _text(v): return ''.join(v) if isinstance(v, list) else v

def pandoc_id(text):
    "The id Pandoc/Quarto gives a heading (what nbdev's doc links point at): 'LinearMixedModel.fit' -> 'linearmixedmodel.fit'."
    t = re.sub(r'<[^>]+>|[`*]', '', text)
    t = re.sub(r'[^\w\s.\-]', '', t, flags=re.UNICODE).strip().lower()
    t = re.sub(r'\s+', '-', t)
    t = re.sub(r'^[^a-z]+', '', t)
    return t or 'section'

_re_source = re.compile(r'\[source\]\((\S+?)\)\{[^}]*\}')
_re_heading = re.compile(r'^(#{1,6})\s+(.+?)\s*$', re.M)

def show_doc_md(md):
    "nbdev's show_doc markdown (Quarto flavour) as MyST markdown: the rule dropped, a Pandoc-style anchor, a plain source link."
    from docutils.nodes import make_id
    md = re.sub(r'^\s*---\s*\n', '', md, count=1)
    links = _re_source.findall(md)
    md = _re_source.sub('', md)
    m = _re_heading.search(md)
    if not m: return md.strip()
    head, rest = md[:m.end()], md[m.end():]
    name = m.group(2)
    anchor = pandoc_id(name)
    pre = '' if make_id(name) == anchor else f'<div id="{anchor}" class="nbdev-anchor"></div>\n\n'
    src = ''.join(f'<a class="nbdev-source" href="{u}" target="_blank" rel="noopener">source</a>' for u in links)
    return (pre + head.strip() + '\n\n' + (src + '\n\n' if src else '') + rest.strip()).strip()

# ---------------------------------------------------------------- API entries rendered from the objects
# nbdev's show_doc markdown folds numpydoc's parameter descriptions into the signature as comments (a code block that
# runs off the page, with the descriptions then repeated as raw "Parameters / ----------" text, which Markdown turns
# into headings), writes `def` for classes and properties, and heads a patched method with its bare name (so nbdev's
# own doc links, `fit.html#linearmixedmodel.ranef`, miss it). Where the object named in `show_doc(...)` can be
# found, its entry is written from the object instead: the qualified name as heading (nbdev's anchor), a short
# signature (`class ...`, `property ... -> type`), the docstring's summary and text, and its numpydoc sections as lists.
_NUMPYDOC = re.compile(r'^(Parameters|Returns|Yields|Raises|Warns|Attributes|Other Parameters|See Also|Notes|Examples|References)\n-{3,}\n', re.M)
_ITEMS = {'Parameters', 'Returns', 'Yields', 'Raises', 'Warns', 'Attributes', 'Other Parameters'}

def resolve(expr, module):
    "The object `expr` ('lmer', 'LinearMixedModel.sigma') names in module `module` (properties as property objects), or None."
    import importlib, inspect
    try: obj = vars(importlib.import_module(module))[expr.split('.')[0]]
    except (ImportError, KeyError): return None
    for part in expr.split('.')[1:]:
        try: obj = inspect.getattr_static(obj, part)
        except AttributeError: return None
        if isinstance(obj, (staticmethod, classmethod)): obj = obj.__func__
    return obj

def doc_sections(doc):
    "A numpydoc docstring split: (summary, text before the sections, {section: body})."
    parts = _NUMPYDOC.split(doc or '')
    head = parts[0].strip().split('\n\n', 1)
    secs = {parts[i]: parts[i + 1].rstrip() for i in range(1, len(parts) - 1, 2)}
    return head[0].replace('\n', ' ').strip(), (head[1].strip() if len(head) > 1 else ''), secs

def doc_items(body, named=True):
    """A numpydoc section's items: [(names or '', type, description)]; an item's first line is 'name : type', or 'name'
    (in a section of `named` items: Parameters, Attributes), or a type (Returns, Raises)."""
    items = []
    for line in body.splitlines():
        if line.strip() and not line.startswith((' ', '\t')):
            name, sep, typ = line.partition(' : ')
            items.append([name.strip(), typ.strip(), []] if sep else [line.strip(), '', []] if named else ['', line.strip(), []])
        elif items: items[-1][2].append(line.strip())
    return [(n, t, ' '.join(x for x in d if x)) for n, t, d in items]

class _Name(str):
    "A default shown by its name (repr without quotes)."
    def __repr__(self): return str(self)

def _signature(expr, obj, kind, returns):
    "The entry's signature line(s): `lmer(formula, data, REML=True, ...)`, `class X(...)`, `property X.p -> float`."
    import inspect
    if kind == 'property': return f"property {expr}" + (f" -> {returns}" if returns else '')
    f = obj.__init__ if kind == 'class' else obj
    try: sig = inspect.signature(f)
    except (TypeError, ValueError): return ('class ' if kind == 'class' else '') + expr
    def plain(p):                                    # no annotations; a class or function default by its name
        d = p.default
        if d is not p.empty and (inspect.isclass(d) or inspect.isfunction(d) or inspect.isbuiltin(d)): d = _Name(d.__name__)
        return p.replace(annotation=inspect.Parameter.empty, default=d)
    args = ', '.join(str(plain(p)) for p in sig.parameters.values() if p.name not in ('self', 'cls'))
    head = ('class ' if kind == 'class' else '') + expr
    if len(head) + len(args) + 2 <= 90: return f"{head}({args})"
    import textwrap
    return f"{head}(\n" + textwrap.fill(args, 90, initial_indent='    ', subsequent_indent='    ', break_long_words=False, break_on_hyphens=False) + "\n)"

_RST_LITERAL = re.compile(r'``([^`]+)``')

def _literals_kept(linkify):
    """`linkify` that leaves numpydoc's ``literal`` spans alone (a setting's name such as ``conditioning``, not the object
    of that name elsewhere), writing them as plain `code`: linked inside, they rendered as raw `[`x`](url)` text."""
    def f(text):
        keep = []
        text = _RST_LITERAL.sub(lambda m: keep.append(m.group(1)) or f'\x00{len(keep) - 1}\x00', text)
        return re.sub('\x00(\\d+)\x00', lambda m: f'`{keep[int(m.group(1))]}`', linkify(text))
    return f

def api_md(expr, obj, links, alias=None, lookup=None, level=3):
    """The MyST markdown of one API entry for the object `obj` named `expr` (see above); `alias`: nbdev's heading, kept
    as an anchor; `lookup`: nbdev's doc-link lookup, to link the names in the text (not the parameter names); `level`:
    of its heading (3, nbdev's, or one below the heading before it, so that no level is skipped)."""
    import inspect
    link = _literals_kept(lookup.linkify) if lookup else (lambda t: t)
    from docutils.nodes import make_id
    kind = ('property' if isinstance(obj, property) else 'class' if inspect.isclass(obj) else 'function')
    doc = inspect.getdoc(obj.fget if kind == 'property' else obj) or ''
    summary, text, secs = doc_sections(doc)
    rets = doc_items(secs.get('Returns', ''), named=False)
    rtype = rets[0][1] if kind == 'property' and len(rets) == 1 else None
    anchors = [a for a in dict.fromkeys([pandoc_id(expr), pandoc_id(alias) if alias else None]) if a and a != make_id(expr)]
    out = [''.join(f'<div id="{a}" class="nbdev-anchor"></div>\n' for a in anchors), f'{"#" * level} {expr}', '']
    if links: out += [''.join(f'<a class="nbdev-source" href="{u}" target="_blank" rel="noopener">source</a>' for u in links), '']
    out += ['```python', _signature(expr, obj, kind, rtype), '```', '']
    if summary: out += [link(summary), '']
    if text: out += [link(text), '']
    for name, body in secs.items():
        out += [f'**{name}**', '']
        if name in _ITEMS:
            for n, t, d in doc_items(body, named=name in ('Parameters', 'Attributes', 'Other Parameters')):
                names = ', '.join(f'`{x.strip()}`' for x in n.split(',')) if n else ''
                lead = ' : '.join(x for x in (f'**{names}**' if names else '', f'*{t}*' if t else '') if x)
                out.append(f'- {lead}' + (f' — {link(d)}' if d else ''))
            out.append('')
        else: out += [link(inspect.cleandoc(body)), '']
    if kind == 'class':                       # its methods and properties, each an entry one level down
        for n, a in class_members(obj): out += ['', api_md(f'{expr}.{n}', a, [], None, lookup, min(level + 1, 6)), '']
    return '\n'.join(out).strip()

def class_members(cls):
    "(name, member) of a class's public methods and properties written in its own body (nbdev gives them no entry)."
    import inspect
    try: lines, start = inspect.getsourcelines(cls); file = inspect.getsourcefile(cls)
    except (OSError, TypeError): return []
    out = []
    for n, a in vars(cls).items():
        f = a.fget if isinstance(a, property) else getattr(a, '__func__', a)
        code = getattr(inspect.unwrap(f), '__code__', None) if callable(f) else None
        if not n.startswith('_') and code and code.co_filename == file and start <= code.co_firstlineno < start + len(lines):
            out.append((n, a))
    return out

_SHOW_DOC = re.compile(r'^\s*show_doc\(\s*([\w.]+)\s*[,)]', re.M)

_CALLOUT = re.compile(r'^:::+\s*\{\.callout-(note|tip|warning|important|caution)[^}]*\}\s*$', re.M)
_DIRECTIVE = re.compile(r'^\s*#\|\s*([\w-]+)\s*:?\s*(.*?)\s*$')

def _directives(src):
    "Split Quarto's leading `#| key: value` lines off a code cell's source."
    lines, d = src.splitlines(), {}
    while lines and (m := _DIRECTIVE.match(lines[0])):
        d[m.group(1)] = m.group(2).strip().strip('"\'').lower(); lines.pop(0)
    return d, '\n'.join(lines).strip('\n')

def _md_cell(src): return {'cell_type': 'markdown', 'metadata': {}, 'source': src}

def myst_nb(nb, fallback_title, rel, notes, module=None, lookup=None):
    """The nbdev-processed notebook `nb` (a dict) in MyST-NB's dialect, in place; `notes` collects what was dropped.
    `module`: the notebook's module (`mixednb.fit`), whose objects the API entries are written from; `lookup`: nbdev's
    doc-link lookup, to link names in them."""
    meta = nb.setdefault('metadata', {})
    meta.setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    meta.setdefault('language_info', {'name': 'python', 'pygments_lexer': 'ipython3'})   # nbdev-clean strips both
    meta.pop('widgets', None)            # no live widgets on a static page: sliders there would move and update nothing
    fm, cells, last = {}, [], 1                  # last: the level of the latest heading (the title's, 1, to start)
    for i, cell in enumerate(nb['cells']):
        src = _src(cell)
        cell.get('metadata', {}).pop('execution', None)         # nbdev's run timings (not valid nbformat)
        if cell['cell_type'] == 'raw' and i == 0 and src.lstrip().startswith('---'):
            import yaml
            fm = yaml.safe_load(src.strip().strip('-')) or {}
            continue
        if cell['cell_type'] == 'markdown':
            if src.strip().startswith('<!-- WARNING: THIS FILE WAS AUTOGENERATED'): continue
            if hs := re.findall(r'^(#{1,6})\s', src, re.M): last = len(hs[-1])
            cell['source'] = _CALLOUT.sub(lambda m: ':::{' + m.group(1) + '}', src)
            cells.append(cell); continue
        if cell['cell_type'] != 'code': cells.append(cell); continue
        d, body = _directives(src)
        if d.get('include') == 'false': continue
        if body.startswith('show_doc(') or 'show_doc(' in body and d.get('output') == 'asis':
            mds = [_text(o['data']['text/markdown']) for o in cell.get('outputs', []) if 'text/markdown' in o.get('data', {})]
            m = _SHOW_DOC.search(body)
            obj = resolve(m.group(1), module) if m and module else None
            if obj is not None and mds:
                alias = (_re_heading.search(mds[0]) or [None, None, None]).group(2) if _re_heading.search(mds[0]) else None
                cells.append(_md_cell(api_md(m.group(1), obj, _re_source.findall(mds[0]), alias, lookup, min(3, last + 1))))
            elif mds: cells.append(_md_cell('\n\n'.join(show_doc_md(m) for m in mds)))
            continue
        tags = set(cell.setdefault('metadata', {}).get('tags', []))
        if d.get('echo') == 'false': tags.add('remove-input')
        if d.get('output') == 'false': tags.add('remove-output')
        if d.get('code-fold') in ('true', 'hide'): tags.add('hide-input')
        outs = []
        for o in cell.get('outputs', []):
            data = o.get('data')
            if o.get('output_type') in ('execute_result', 'display_data'):
                if not data: continue                        # an empty result (e.g. an object that displayed itself)
                if WIDGET_VIEW in data:                      # the static form (e.g. the θ explorer's frames) or nothing
                    data.pop(WIDGET_VIEW)
                    if not data.keys() & {'text/html', 'image/png', 'image/svg+xml', 'text/markdown'}:
                        notes.append(f'{rel}: widget output (cell {i}) has no static form: not shown')
                        continue
            if o.get('output_type') == 'stream' and o.get('name') == 'stderr':   # kept: check_site fails on it (fix the cause)
                notes.append(f'{rel}: stderr output (cell {i}), a raw warning on the page: {_text(o.get("text", ""))[:80]!r}')
            outs.append(o)
        cell['_original'] = body
        if body and d.get('echo') != 'false':                # tests stay in the notebook, not on the page
            new = drop_tests(body)
            if new is None: tags.add('remove-input'); body = ''
            elif new != body: body = new
        cell['outputs'] = outs
        cell['source'] = body
        if not body and not outs: continue
        if not body: tags.add('remove-input')
        if tags: cell['metadata']['tags'] = sorted(tags)
        cells.append(cell)
    code = [c for c in cells if c['cell_type'] == 'code' and c['source']]
    shows = [any(o.get('data', {}).keys() & {'image/png', 'image/svg+xml'} for o in c.get('outputs', [])) for c in code]
    originals = [c['_original'] for c in cells if '_original' in c]
    for c, new in zip(code, drop_test_support([c['source'] for c in code], originals, shows)):
        if new == c['source']: continue
        c['source'] = new or ''
        if new is None:
            tags = set(c['metadata'].get('tags', [])) | {'remove-input'}
            c['metadata']['tags'] = sorted(tags)
    for c in cells: c.pop('_original', None)
    cells = [c for c in cells if c['cell_type'] != 'code' or c['source'] or c.get('outputs')]
    title = fm.get('title') or fallback_title
    head = f'# {title}'
    if fm.get('description'): head += '\n\n{.lead}\n' + str(fm['description']).strip()
    nb['cells'] = [_md_cell(head)] + cells
    return fm, title

# ---------------------------------------------------------------- staging
def _strip_num(name): return re.sub(r'^\d+[a-z]?_', '', name)

def page_name(fm, nb_path):
    "nbdev's page name: the front matter's output-file, else the file name without its number prefix."
    of = fm.get('output-file')
    return Path(of).stem if of else _strip_num(nb_path.stem)

def classify(rel):
    "'index', 'tutorial', 'api' or 'more' for a notebook path relative to nbs/."
    if rel.parts == ('index.ipynb',): return 'index'
    if rel.parts[0] == 'tutorials': return 'tutorial'
    if len(rel.parts) == 1 and re.match(r'^\d+', rel.name): return 'api'
    return 'more'

def _write_if_changed(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text: path.write_text(text)

def _worker_fn():
    "nbdev_process from this file imported as a module (spawned workers cannot unpickle functions of a __main__ script)."
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import build_docs
    return build_docs.nbdev_process

def _link_notebooks(pages, target):
    "Links in markdown to a notebook by its repository path (`nbs/tutorials/01_archers.ipynb`, as the README has them) become links to its page."
    pat = re.compile(r'\]\((nbs/[^)#\s]+\.ipynb)(#[^)\s]*)?\)')
    for kind in pages:
        for docname, nb in pages[kind]:
            here = os.path.dirname(docname)
            def sub(mt):
                if mt.group(1) not in target: return mt.group(0)
                return f"]({os.path.relpath(target[mt.group(1)] + '.ipynb', here or '.')}{mt.group(2) or ''})"
            for c in nb['cells']:
                if c['cell_type'] == 'markdown':
                    src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
                    c['source'] = pat.sub(sub, src)

def _default_exp(path, cfg):
    "The module a notebook exports to ('mixednb.fit'), from its `#| default_exp` cell, or None."
    for c in json.loads(Path(path).read_text())['cells']:
        if c['cell_type'] == 'code' and (m := re.search(r'^#\|\s*default_exp\s+(\S+)', _src(c), re.M)):
            return f"{cfg.lib_name}.{m.group(1)}"
    return None

def stage(n_workers):
    import nbformat
    from nbdev.config import get_config
    from nbdev.doclinks import nbglob
    cfg = get_config()
    nbs_path = Path(cfg.nbs_path)                       # doc links come from mixednb/_modidx.py as nbdev-export left it
    paths = sorted(nbglob(nbs_path, func=Path))
    if not paths: sys.exit('build_docs: no notebooks found under ' + str(nbs_path))
    t = time.time()
    with ProcessPoolExecutor(max_workers=max(1, min(n_workers, len(paths))), mp_context=get_context('spawn')) as ex:
        processed = list(ex.map(_worker_fn(), [str(p) for p in paths]))
    log(f'nbdev processed {len(paths)} notebooks in {time.time() - t:.1f}s')
    from nbdev.doclinks import NbdevLookup
    lookup = NbdevLookup()
    notes, pages, written, target, modules = [], {'index': [], 'tutorial': [], 'api': [], 'more': []}, set(), {}, {}
    for p, nb in zip(paths, processed):
        rel = p.relative_to(nbs_path)
        kind = classify(rel)
        fm, title = myst_nb(nb, _strip_num(p.stem).replace('_', ' ').capitalize(), f'nbs/{rel}', notes,
                            module=_default_exp(p, cfg), lookup=lookup)
        name = 'index' if kind == 'index' else page_name(fm, p)
        docname = str(rel.parent / name) if len(rel.parts) > 1 else name
        if docname in written: sys.exit(f'build_docs: two notebooks make the page {docname}.html ({rel})')
        written.add(docname); target[f'nbs/{rel}'] = docname; modules[docname] = _default_exp(p, cfg)
        pages[kind].append((docname, nb))
    if not pages['index']: sys.exit('build_docs: nbs/index.ipynb is missing (the landing page)')
    _link_notebooks(pages, target)
    _, index = pages['index'][0]
    # the API starts where a user starts: the pages of lmer and glmer first, then the rest in the notebooks' order
    first = {f'{cfg.lib_name}.fit': 0, f'{cfg.lib_name}.glmm': 1}
    pages['api'].sort(key=lambda dn: first.get(modules.get(dn[0]), len(first)))
    toc = []
    for caption, kind in (('Tutorials', 'tutorial'), ('API', 'api'), ('More', 'more')):
        if pages[kind]:
            toc.append(f'```{{toctree}}\n:caption: {caption}\n:hidden:\n:maxdepth: 1\n\n' + '\n'.join(d for d, _ in pages[kind]) + '\n```')
    index['cells'].append(_md_cell('\n\n'.join(toc)))
    keep = set()
    for kind in pages:
        for docname, nb in pages[kind]:
            f = SRC / f'{docname}.ipynb'
            keep.add(f)
            for k, c in enumerate(nb['cells']): c['id'] = f'c{k}'     # nbdev-clean drops cell ids; nbformat 4.5 wants them
            nbformat.validate(nbformat.from_dict(nb))                  # what MyST-NB would only log
            _write_if_changed(f, json.dumps(nb, indent=1, ensure_ascii=False) + '\n')
    for f in SRC.rglob('*.ipynb'):
        if f not in keep: f.unlink()
    for n in notes: log('note:', n)
    return cfg, pages

# ---------------------------------------------------------------- 3. offline JavaScript
def vendor():
    "Unpack the pinned npm tarballs into docs/_vendor (once; later builds are offline)."
    stamp = VENDOR / '.stamp'
    want = json.dumps([[s, i] for s, i, _ in NPM])
    if stamp.exists() and stamp.read_text() == want: return
    npm = shutil.which('npm')
    if not npm: sys.exit('build_docs: docs/_vendor is missing and npm is not installed (apt-get install npm): '
                         'MathJax and the widget manager come from npm once, then builds are offline')
    shutil.rmtree(VENDOR, ignore_errors=True); VENDOR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        for spec, integrity, files in NPM:
            log(f'npm pack {spec}')
            r = subprocess.run([npm, 'pack', spec, '--json', '--pack-destination', tmp], capture_output=True, text=True)
            if r.returncode: sys.exit(f'build_docs: npm pack {spec} failed:\n{r.stderr}')
            tgz = Path(tmp) / json.loads(r.stdout)[0]['filename']
            got = 'sha512-' + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
            if got != integrity: sys.exit(f'build_docs: {spec}: integrity {got} != pinned {integrity}')
            with tarfile.open(tgz) as tf:
                for m in tf.getmembers():
                    if not m.isfile(): continue
                    for frm, to, suffixes in files:
                        if frm.endswith('/') and m.name.startswith(frm):
                            rest = m.name[len(frm):]
                            if suffixes and ('/' in rest or not rest.endswith(suffixes)): continue
                            dest = VENDOR / to / rest
                        elif m.name == frm: dest = VENDOR / to
                        else: continue
                        dest.parent.mkdir(parents=True, exist_ok=True)
                        dest.write_bytes(tf.extractfile(m).read())
    stamp.write_text(want)

# ---------------------------------------------------------------- 4. Sphinx, links, offline check
_REMOTE = re.compile(r'<(script|link|img|iframe|source)\b[^>]*?\b(src|href)="(https?:)?//[^"]*"[^>]*>', re.I)

def postprocess(cfg):
    "nbdev's absolute doc links made relative; fail on any asset a page would fetch from the web."
    base = (cfg.get('doc_host', '') + cfg.get('doc_baseurl', '/')).rstrip('/') + '/'
    bad = []
    for f in OUT.rglob('*.html'):
        depth = len(f.relative_to(OUT).parts) - 1
        up = '../' * depth
        html = f.read_text()
        new = html.replace(f'href="{base}"', f'href="{up}index.html"').replace(f'href="{base}', f'href="{up}')
        for m in _REMOTE.finditer(new):
            tag = m.group(0)
            if m.group(1).lower() == 'link' and not re.search(r'rel="(stylesheet|preload|modulepreload|icon)"', tag): continue
            bad.append(f'{f.relative_to(OUT)}: {tag[:160]}')
        if new != html: f.write_text(new)
    if bad: sys.exit('build_docs: pages load remote assets:\n  ' + '\n  '.join(bad))

def sphinx():
    "sphinx-build into docs/_build/html (MyST-NB writes its image files beside the output folder), then to _docs/."
    html = BUILD / 'html'
    shutil.rmtree(html, ignore_errors=True)
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-c', str(DOCS), '-d', str(BUILD / 'doctrees'),
           '-E', '-W', '--keep-going', '-q', '-j', 'auto', str(SRC), str(html)]
    r = subprocess.run(cmd, cwd=ROOT)
    if r.returncode: sys.exit(f'build_docs: sphinx-build failed (warnings are errors), exit {r.returncode}')
    shutil.rmtree(OUT, ignore_errors=True)
    shutil.copytree(html, OUT)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--no-proc', action='store_true', help='reuse the staged source in docs/_build/src')
    ap.add_argument('-j', type=int, default=2, help="processes running nbdev's processors (default 2)")
    a = ap.parse_args()
    t0 = time.time()
    os.chdir(ROOT)
    from nbdev.config import get_config
    if a.no_proc and SRC.exists(): cfg = get_config()
    else: cfg, _ = stage(a.j)
    vendor()
    t = time.time(); sphinx(); log(f'sphinx-build {time.time() - t:.1f}s')
    postprocess(cfg)
    log(f'built in {time.time() - t0:.1f}s')
    print(OUT / 'index.html')

if __name__ == '__main__': main()
