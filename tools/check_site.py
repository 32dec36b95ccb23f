"""Check the built site (_docs/, from `python tools/build_docs.py`) in headless Chromium: `python tools/check_site.py`.

Serves _docs/ on 127.0.0.1 (a random port, in a thread) and opens, with Playwright driving Debian's Chromium
(/usr/bin/chromium, or $CHROMIUM; never `playwright install`):
  - the front page (nbs/index.ipynb),
  - the fit notebook's API page: nbdev's show_doc reference must be there (`lmer(` in a signature),
  - the first tutorial (nbs/tutorials/*.ipynb), if any, and the plots page (NN_plots), if any,
  - the θ sliders page (NN_widgets): a plot image, and the widgets drawn from saved state if the notebook has any,
  - the objective page: its LaTeX typeset by the bundled MathJax.
On each page: HTTP 200, no console errors, no failed request and no request leaving 127.0.0.1, the main heading
is the notebook's title, every <img> loaded (naturalWidth > 0), the theme's navigation present, and (on the
pages named above) at least one plot image. Full-page screenshots go to _docs_check/ (not in git).
  - and every other page of the site, with the checks above that every page gets.
Then every page of the site (parsed): no raw warning (a stderr output, `<ipython-input-…>`), no figure
shown twice on a page (same image bytes), no visible test code (assert, test_eq(…), np.testing.…) in a code cell,
and on each API page the public API of its module — each callable in its __all__ and each public method and property
whose code is in that module (patched on a class or defined in one) — documented: an entry with nbdev's anchor, a
docstring, every parameter described in its Parameters section, a Returns section (what it gives, with its type)
for a property or anything that returns a value; no signature shown as `def name():` (a property or a class).
On the θ sliders page, no slider drawn (a static page has no kernel) and the note saying so.
Exits 1 with the list of failures.
"""
import json, os, re, sys, threading, time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / '_docs'
SHOTS = ROOT / '_docs_check'
NBS = ROOT / 'nbs'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync']

def _strip_num(name): return re.sub(r'^\d+[a-z]?_', '', name)

def nb_title(path):
    "The notebook's first `# Title` heading (what nbdev makes the page title)."
    for c in json.loads(Path(path).read_text())['cells']:
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        if c['cell_type'] == 'markdown' and (m := re.search(r'^#\s+(.+?)\s*$', src, re.M)): return m.group(1)
    return None

def nb_page(path):
    "The page nbdev makes of a notebook: nbs/03_fit.ipynb -> fit.html, nbs/tutorials/01_x.ipynb -> tutorials/x.html."
    rel = Path(path).relative_to(NBS)
    return str(rel.parent / (_strip_num(rel.stem) + '.html')) if len(rel.parts) > 1 else _strip_num(rel.stem) + '.html'

def has_widget_state(path):
    meta = json.loads(Path(path).read_text()).get('metadata', {})
    return bool((meta.get('widgets') or {}).get('application/vnd.jupyter.widget-state+json', {}).get('state'))

def numbered(stem):
    return next(iter(sorted(NBS.glob(f'[0-9]*_{stem}.ipynb'))), None)

def pages():
    "(name, url path, expected title, checks) for each page to visit."
    out = [('front', 'index.html', nb_title(NBS / 'index.ipynb'), {'nav'})]
    fit = numbered('fit')
    if not fit: sys.exit('check_site: no nbs/NN_fit.ipynb')
    out.append(('api-fit', nb_page(fit), nb_title(fit), {'nav', 'showdoc'}))
    tuts = sorted((NBS / 'tutorials').glob('*.ipynb'))
    if tuts: out.append(('tutorial', nb_page(tuts[0]), nb_title(tuts[0]), {'nav'}))
    if (p := numbered('plots')): out.append(('plots', nb_page(p), nb_title(p), {'nav', 'plot'}))
    if (w := numbered('widgets')):
        out.append(('widgets', nb_page(w), nb_title(w), {'nav', 'plot', 'static-widgets'}))
    if (o := numbered('objective')): out.append(('objective', nb_page(o), nb_title(o), {'nav', 'math'}))
    # and every other page of the site, with the checks every page gets
    done = {path for _, path, _, _ in out}
    titles = {nb_page(p): nb_title(p) for p in NBS.rglob('*.ipynb') if '.ipynb_checkpoints' not in p.parts}
    for f in sorted(SITE.rglob('*.html')):
        rel = str(f.relative_to(SITE))
        if rel in done or rel.startswith(('_static', '_sources', '_images', 'genindex', 'search')): continue
        out.append((rel[:-5].replace('/', '-'), rel, titles.get(rel), {'nav'}))
    return out

class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *a): pass

def serve():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), partial(Quiet, directory=str(SITE)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv

def check_page(browser, base, name, path, title, checks):
    "Visit one page; return (failures, facts)."
    fails, facts, console, requests, failed = [], {}, [], [], []
    page = browser.new_page(viewport={'width': 1280, 'height': 900})
    page.on('console', lambda m: console.append(m.text) if m.type == 'error' else None)
    page.on('pageerror', lambda e: console.append(f'uncaught: {e}'))
    page.on('request', lambda r: requests.append(r.url))
    page.on('requestfailed', lambda r: failed.append(f'{r.url} ({r.failure})'))
    page.on('response', lambda r: failed.append(f'{r.url} (HTTP {r.status})') if r.status >= 400 else None)
    resp = page.goto(f'{base}/{path}', wait_until='load')
    if resp is None or resp.status != 200:
        page.close(); return [f'{path}: HTTP {resp.status if resp else "no response"}'], facts
    # MathJax typesets after load; the widget manager renders asynchronously.
    page.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")
    page.wait_for_load_state('networkidle')
    # every image: wait for those still loading, then read their sizes
    imgs = page.evaluate("""async () => {
        const ims = Array.from(document.images);
        await Promise.all(ims.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
        return ims.map(i => ({src: i.currentSrc || i.src, w: i.naturalWidth, h: i.naturalHeight,
                              inWidget: !!i.closest('.jupyter-widgets')}));
    }""")
    facts['images'] = len(imgs)
    for i in imgs:
        if i['w'] == 0: fails.append(f'{path}: image not loaded: {i["src"][:120]}')
    h1 = page.evaluate("() => { const h = document.querySelector('article h1'); return h ? h.innerText.replace(/[¶#]\\s*$/, '').trim() : null; }")
    facts['h1'] = h1
    if h1: h1 = h1.replace('’', "'").replace('‘', "'")          # Sphinx's smart quotes
    if title and h1 != title: fails.append(f'{path}: main heading {h1!r}, expected {title!r}')
    if 'nav' in checks:
        nav = page.evaluate("() => Array.from(document.querySelectorAll('.sidebar-tree a.reference')).map(a => a.innerText.trim())")
        caps = page.evaluate("() => Array.from(document.querySelectorAll('.sidebar-tree p.caption')).map(p => p.innerText.trim())")
        facts['nav'] = f'{len(nav)} links, sections {caps}'
        if 'API' not in [c.upper() for c in caps] or len(nav) < 3: fails.append(f'{path}: navigation missing (sections {caps}, {len(nav)} links)')
    if 'showdoc' in checks:
        sigs = page.evaluate("() => Array.from(document.querySelectorAll('article pre')).map(p => p.innerText)")
        ok = any(re.search(r'^lmer\(', s, re.M) for s in sigs)
        facts['signature lmer('] = ok
        if not ok: fails.append(f'{path}: no signature "lmer(" in the API reference')
        anchor = page.evaluate("() => !!document.getElementById('lmer')")
        if not anchor: fails.append(f'{path}: no #lmer anchor for nbdev doc links')
    if 'plot' in checks:
        plots = [i for i in imgs if i['w'] >= 200 and i['h'] >= 150]
        facts['plot images'] = len(plots)
        if not plots: fails.append(f'{path}: no plot image (>= 200x150) on the page')
    if 'static-widgets' in checks:
        n = page.evaluate("() => document.querySelectorAll('.jupyter-widgets .widget-slider, .widget-slider').length")
        note = page.evaluate("() => Array.from(document.querySelectorAll('.mixednb-static')).filter(e => e.innerText.includes('need a running Python kernel') && e.querySelector('img')).length")
        facts['dead sliders'], facts['static explorer notes'] = n, note
        if n: fails.append(f'{path}: {n} sliders drawn on a static page (nothing would follow them)')
        if not note: fails.append(f'{path}: no note that the sliders need a kernel, with the frames')
    if 'math' in checks:
        m = page.evaluate("() => ({typeset: document.querySelectorAll('mjx-container').length, "
                          "raw: Array.from(document.querySelectorAll('article .math')).filter(e => !e.querySelector('mjx-container')).length})")
        facts['math'] = m
        if not m['typeset']: fails.append(f'{path}: no typeset math (MathJax did not run)')
        if m['raw']: fails.append(f'{path}: {m["raw"]} math elements left untypeset')
    host = base.split('//', 1)[1]
    outside = sorted({u for u in requests if not u.startswith(('data:', 'blob:', 'about:')) and u.split('//', 1)[-1].split('/', 1)[0] != host})
    if outside: fails.append(f'{path}: requests leaving the site: {outside[:5]}')
    if console: fails.append(f'{path}: console errors: {console[:5]}')
    if failed: fails.append(f'{path}: failed requests: {failed[:5]}')
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f'{name}.png'), full_page=True)
    page.close()
    return fails, facts

# ---------------------------------------------------------------- every page, parsed
_TEST_LINE = re.compile(r'(^\s*|:\s*|;\s*)(assert\b|test_\w+\(|np\.testing\.|numpy\.testing\.|pd\.testing\.)')   # also after `except …:` or `;`

def _img_bytes(f, src):
    "The bytes of an <img src> on page f (a data: URI or a file of the site)."
    import base64
    from urllib.parse import unquote
    if src.startswith('data:'):
        head, _, data = src.partition(',')
        return base64.b64decode(data) if ';base64' in head else unquote(data).encode()
    p = (f.parent / unquote(src.split('#')[0].split('?')[0])).resolve()
    return p.read_bytes() if p.is_file() else None

def api_modules():
    "{page: module name} for the API notebooks (nbs/NN_x.ipynb with `#| default_exp`)."
    out = {}
    for nb in sorted(NBS.glob('[0-9]*_*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
            if c['cell_type'] == 'code' and (m := re.search(r'^#\|\s*default_exp\s+(\S+)', src, re.M)):
                out[nb_page(nb)] = m.group(1); break
    return out

def api_objects(modname):
    """The public API a page documents: (qualified name, object, kind) for each callable in the module's __all__ and each
    public method or property (patched on or defined in a class) whose code is in this module."""
    import importlib, inspect
    mod = importlib.import_module(modname)
    out, classes = [], {}
    for m in [m for n, m in sys.modules.items() if n.startswith('mixednb.')]:
        for v in vars(m).values():
            if inspect.isclass(v) and v.__module__.startswith('mixednb.') and not v.__name__.startswith('_'): classes[v.__qualname__] = v
    for n in getattr(mod, '__all__', []):
        o = getattr(mod, n, None)
        if callable(o): out.append((n, o, 'class' if inspect.isclass(o) else 'function'))
    for cn, cls in sorted(classes.items()):
        for an, a in vars(cls).items():
            if an.startswith('_'): continue
            f = a.fget if isinstance(a, property) else getattr(a, '__func__', a)
            if callable(f) and getattr(f, '__module__', None) == modname:
                out.append((f'{cn}.{an}', a, 'property' if isinstance(a, property) else 'method'))
    return out

def _returns_value(f):
    "Whether f's source has a `return <value>` (its own, not a nested function's or lambda's)."
    import ast, inspect, textwrap
    try: fn = ast.parse(textwrap.dedent(inspect.getsource(f))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError): return True
    def walk(n):
        for c in ast.iter_child_nodes(n):
            if isinstance(c, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)): continue
            if isinstance(c, ast.Return) and c.value is not None and not (isinstance(c.value, ast.Constant) and c.value.value is None): return True
            if walk(c): return True
        return False
    return walk(fn)

def doc_problems(name, obj, kind):
    """What the docstring of a public function, class, method or property lacks: a docstring; each parameter in its
    Parameters section (a class's in Parameters or Attributes); a Returns section when it returns a value (always for
    a property). [] when nothing."""
    import inspect
    from build_docs import doc_sections, doc_items
    f = obj.fget if kind == 'property' else getattr(obj, '__func__', obj)
    doc = inspect.getdoc(f) if kind != 'class' else (obj.__doc__ and inspect.cleandoc(obj.__doc__))
    if not doc: return ['no docstring']
    _, _, secs = doc_sections(doc)
    bad, init = [], getattr(obj, '__init__', None) if kind == 'class' else None
    if kind == 'class' and not (inspect.isfunction(init) and init.__module__.startswith('mixednb')): init = None
    target = init if kind == 'class' else f if kind != 'property' else None
    if target is not None:
        try: params = [p.name for p in inspect.signature(target).parameters.values() if p.name not in ('self', 'cls')]
        except (TypeError, ValueError): params = []
        named = set()
        for sec in ('Parameters', 'Other Parameters') + (('Attributes',) if kind == 'class' else ()):
            for n, _, _ in doc_items(secs.get(sec, '')):
                named |= {x.strip().lstrip('*') for x in n.split(',')}
        missing = [p for p in params if p not in named]
        if missing: bad.append(f"parameters not described: {', '.join(missing)}")
    if kind == 'property':
        if not ('Returns' in secs or property_type(doc)): bad.append('its type is not stated (a Returns section, or a type named in its summary)')
    elif kind in ('function', 'method') and _returns_value(f):
        if not ({'Returns', 'Yields'} & secs.keys()): bad.append('no Returns section (what it gives, and its type)')
    return bad

_TYPE_WORDS = re.compile(r'\b(int|float|bool|str|dict|list|tuple|None|Series|DataFrame|ndarray|array|matrix|Blocks|Design|'
                         r'Figure|Axes|RandomEffects|Summary|Table)\b')

def property_type(doc):
    "The type a one-line property docstring names ('a float', '(int)', 'a DataFrame …'), or None."
    m = _TYPE_WORDS.search((doc or '').split('\n\n')[0])
    return m.group(1) if m else None

def check_pages():
    "Raw warnings, duplicated figures, visible tests and undocumented public names on every page: (failures, facts)."
    import hashlib, importlib, inspect
    from bs4 import BeautifulSoup
    from docutils.nodes import make_id
    sys.path.insert(0, str(ROOT / 'tools'))
    from build_docs import pandoc_id
    fails, n_pages, n_imgs, n_names = [], 0, 0, 0
    mods = api_modules()
    for f in sorted(SITE.rglob('*.html')):
        rel = str(f.relative_to(SITE))
        if rel.startswith(('_static', '_sources', 'genindex', 'search')): continue
        n_pages += 1
        html = f.read_text()
        soup = BeautifulSoup(html, 'html.parser')
        art = soup.select_one('article') or soup
        if 'ipython-input-' in art.get_text() or art.select('.output.stderr, .stderr'):
            fails.append(f'{rel}: a raw warning / stderr output is shown')
        seen = {}
        for im in art.find_all('img'):
            b = _img_bytes(f, im.get('src', ''))
            if not b or len(b) < 2000: continue                           # icons
            n_imgs += 1
            h = hashlib.sha1(b).hexdigest()
            if h in seen: fails.append(f'{rel}: the same figure is shown twice ({im.get("src", "")[:60]})')
            seen[h] = True
        for pre in art.select('.cell_input pre, div.highlight-ipython3 pre'):
            bad = [l for l in pre.get_text().splitlines() if _TEST_LINE.search(l)]
            if bad: fails.append(f'{rel}: test code shown: {bad[0].strip()[:80]}'); break
        if rel in mods:
            ids = {t.get('id') for t in soup.find_all(id=True)}
            for name, obj, kind in api_objects(f'mixednb.{mods[rel]}'):
                n_names += 1
                qual = getattr(getattr(obj, 'fget', obj), '__qualname__', name)     # an alias of a method: its entry
                if not {pandoc_id(name), make_id(name), pandoc_id(qual)} & ids:
                    fails.append(f'{rel}: public {kind} {name} has no documentation entry on the page')
                for p in doc_problems(name, obj, kind): fails.append(f'{rel}: {kind} {name}: {p}')
            for pre in art.select('div.highlight-python pre, div.highlight-default pre'):       # API signatures
                t = pre.get_text()
                if re.match(r'def \w+\(\):', t): fails.append(f'{rel}: a property or class shown as {t.strip()[:40]!r}')
    return fails, {'pages': n_pages, 'figures': n_imgs, 'public names': n_names}

def main():
    if not (SITE / 'index.html').exists(): sys.exit('check_site: _docs/index.html missing: run python tools/build_docs.py first')
    if not Path(CHROMIUM).exists(): sys.exit(f'check_site: no Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)')
    from playwright.sync_api import sync_playwright
    t0, srv, all_fails = time.time(), serve(), []
    base = f'http://127.0.0.1:{srv.server_address[1]}'
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for name, path, title, checks in pages():
                fails, facts = check_page(browser, base, name, path, title, checks)
                print(f"[check_site] {'FAIL' if fails else 'ok  '} {path}: " + ', '.join(f'{k}={v}' for k, v in facts.items()))
                all_fails += fails
            browser.close()
    finally: srv.shutdown()
    pf, facts = check_pages()
    print(f"[check_site] {'FAIL' if pf else 'ok  '} every page: " + ', '.join(f'{k}={v}' for k, v in facts.items()))
    all_fails += pf
    print(f'[check_site] screenshots in {SHOTS.relative_to(ROOT)}/ ({time.time() - t0:.1f}s)')
    if all_fails:
        print('check_site: FAILED\n  ' + '\n  '.join(all_fails), file=sys.stderr); sys.exit(1)
    print('check_site: all pages OK')

if __name__ == '__main__': main()
