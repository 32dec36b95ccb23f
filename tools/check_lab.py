"""Check the θ explorer in a real JupyterLab, in headless Chromium: `python tools/check_lab.py`.

Needs `pip install jupyterlab playwright` (not part of the README's test command) and Debian's Chromium
(/usr/bin/chromium, or $CHROMIUM; never `playwright install`). Starts `jupyter lab` on 127.0.0.1 (random port,
no token, settings and workspaces in a temporary folder, the python3 kernel being this Python or --kernel-python),
writes a notebook that fits sleepstudy and opens `m.explore_theta()`, and in a 1280 x 1000 window with the file
browser open:
  1. runs the notebook; the readout at open must show the fit's σ̂ and REML criterion to the printed digits
     (the fit prints them with the readout's format), also after the front end has synced the sliders;
  2. drags the first slider: the readout must change;
  3. presses ten arrow keys on a slider: the kernel must recompute fewer than ten times (debounced; latest wins)
     and the slider's θ must be the one read out;
  4. presses the reset button: the readout must be θ̂'s again;
  5. the whole widget must lie inside the notebook panel beside the open file browser (no horizontal overflow),
     at 1280 px and in an 820 px window, and, scrolled to the top of the panel, be visible whole in the 1280 x 1000
     screenshot (_lab_check/widget.png).
Screenshots go to _lab_check/ (git-ignored; CI keeps them as artifacts). Exits 1 with the list of failures.
"""
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / '_lab_check'
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update']

CELLS = [
    "import mixednb.widgets\nfrom mixednb import lmer, datasets\n"
    "m = lmer('Reaction ~ Days + (Days | Subject)', datasets.load('sleepstudy'))\n"
    "print('FIT', f'{m.sigma:.6g}', f'{m.objective:.6g}', ' '.join(f'{t:.4g}' for t in m.theta))",
    "ex = m.explore_theta()\nex",
    "print('UPDATES', ex.n_updates, 'THETA', ' '.join(f'{t:.6g}' for t in ex.state['theta']), "
    "'SLIDERS', ' '.join(f'{t:.6g}' for t in ex.theta), 'STEP', ex.sliders[1].step, 'VALUE', ex.sliders[1].value)",
]

def notebook():
    return {'cells': [{'cell_type': 'code', 'execution_count': None, 'id': f'c{i}', 'metadata': {}, 'outputs': [],
                       'source': s} for i, s in enumerate(CELLS)],
            'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}},
            'nbformat': 4, 'nbformat_minor': 5}

def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def start_lab(tmp, kernel_python):
    "jupyter lab in tmp/work, its kernel running kernel_python; (process, base url, log path)."
    kdir = tmp / 'jpath' / 'kernels' / 'python3'
    kdir.mkdir(parents=True)
    (kdir / 'kernel.json').write_text(json.dumps({
        'argv': [kernel_python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
        'display_name': 'Python 3 (ipykernel)', 'language': 'python'}))
    ns = tmp / 'settings' / '@jupyterlab' / 'apputils-extension'     # no "get notified about news?" toast
    ns.mkdir(parents=True)
    (ns / 'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    work = tmp / 'work'; work.mkdir()
    (work / 'explore.ipynb').write_text(json.dumps(notebook(), indent=1))
    env = dict(os.environ, JUPYTER_PATH=str(tmp / 'jpath'), JUPYTER_CONFIG_DIR=str(tmp / 'config'),
               JUPYTERLAB_SETTINGS_DIR=str(tmp / 'settings'), JUPYTERLAB_WORKSPACES_DIR=str(tmp / 'workspaces'),
               JUPYTER_RUNTIME_DIR=str(tmp / 'runtime'),
               PYTHONPATH=os.pathsep.join([str(ROOT)] + ([os.environ['PYTHONPATH']] if os.environ.get('PYTHONPATH') else [])))
    port = free_port()
    log = tmp / 'lab.log'
    cmd = [sys.executable, '-m', 'jupyter', 'lab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
           f'--ServerApp.root_dir={work}', "--IdentityProvider.token=", "--ServerApp.password=",
           '--ServerApp.disable_check_xsrf=True', '--LabApp.expose_app_in_browser=True',
           '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
           '--ServerApp.allow_root=True']
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    base = f'http://127.0.0.1:{port}'
    for _ in range(120):
        if proc.poll() is not None: sys.exit(f'check_lab: jupyter lab exited:\n{log.read_text()[-3000:]}')
        try:
            urllib.request.urlopen(f'{base}/api/status', timeout=2); return proc, base, log
        except Exception: time.sleep(0.5)
    proc.terminate(); sys.exit(f'check_lab: jupyter lab did not answer in 60 s:\n{log.read_text()[-3000:]}')

VISIBLE = """() => { const w = document.querySelector('.mixednb-explorer').getBoundingClientRect();
    const v = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer, .jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').getBoundingClientRect();
    const f = document.querySelector('#filebrowser').getBoundingClientRect();
    const r = x => Math.round(x);
    return {widget: [r(w.left), r(w.top), r(w.right), r(w.bottom)], panel: [r(v.left), r(v.top), r(v.right), r(v.bottom)],
            window: [innerWidth, innerHeight], fileBrowserRight: r(f.right),
            whole: w.left >= v.left - 0.5 && w.right <= v.right + 0.5 && w.top >= v.top - 0.5 && w.bottom <= v.bottom + 0.5
                   && w.right <= innerWidth && w.bottom <= innerHeight && w.left >= f.right && f.width > 0}; }"""

def readout(page):
    "The explorer's readout: {'σ̂': '25.5918', 'criterion': '1743.63', ...} (the text as shown)."
    rows = page.evaluate("""() => { const t = document.querySelector('.mixednb-readout table');
        return t ? Array.from(t.rows).map(r => [r.cells[0].innerText.trim(), r.cells[1].innerText.trim()]) : null; }""")
    return dict(rows) if rows else {}

def output_text(page, marker):
    txt = page.evaluate("() => Array.from(document.querySelectorAll('.jp-OutputArea-output pre')).map(p => p.innerText).join('\\n')")
    m = re.search(rf'^{marker} (.*)$', txt, re.M)
    return m.group(1).split() if m else None

def wait_idle(page, timeout=60):
    "Until the kernel is idle (the notebook's kernel status) and no cell is queued ([*])."
    t = time.time()
    while time.time() - t < timeout:
        busy = page.evaluate("""() => { const w = window.jupyterapp.shell.currentWidget;
            const s = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
            const queued = Array.from(document.querySelectorAll('.jp-InputPrompt')).some(p => p.innerText.includes('*'));
            return !s || s.status !== 'idle' || queued; }""")
        if not busy: return True
        time.sleep(0.2)
    return False

def run_cell(page, index):
    page.evaluate(f"""() => {{ const nb = window.jupyterapp.shell.currentWidget.content;
        nb.activeCellIndex = {index}; return window.jupyterapp.commands.execute('notebook:run-cell'); }}""")
    time.sleep(0.3); wait_idle(page)

def until(fn, timeout=30, step=0.2):
    t = time.time()
    while time.time() - t < timeout:
        v = fn()
        if v: return v
        time.sleep(step)
    return fn()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--kernel-python', default=sys.executable, help='the Python whose ipykernel runs the notebook')
    a = ap.parse_args()
    if not Path(CHROMIUM).exists(): sys.exit(f'check_lab: no Chromium at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)')
    from playwright.sync_api import sync_playwright
    t0, fails, facts = time.time(), [], {}
    SHOTS.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix='check_lab_'))
    proc, base, log = start_lab(tmp, a.kernel_python)
    def shot(name): page.screenshot(path=str(SHOTS / f'{name}.png'))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={'width': 1280, 'height': 1000})
            console = []
            page.on('pageerror', lambda e: console.append(f'uncaught: {e}'))
            page.goto(f'{base}/lab/tree/explore.ipynb', wait_until='load')
            page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=60000)
            if not until(lambda: page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext.session && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel)"), 60):
                fails.append('no kernel started for the notebook')
            # the file browser open in the left sidebar, as a user has it
            if not page.evaluate("() => { const f = document.querySelector('#filebrowser'); return !!f && f.offsetWidth > 0; }"):
                page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
            facts['file browser px'] = page.evaluate("() => { const f = document.querySelector('#filebrowser'); return f ? f.offsetWidth : 0; }")
            if not facts['file browser px']: fails.append('the file browser is not open')
            wait_idle(page)
            run_cell(page, 0)
            fit = until(lambda: output_text(page, 'FIT'), 60)
            if not fit: fails.append('the fit printed nothing'); raise RuntimeError('no fit')
            sigma, crit = fit[0], fit[1]
            facts['fit σ̂, criterion'] = (sigma, crit)
            run_cell(page, 1)
            page.wait_for_selector('.mixednb-explorer .widget-slider', timeout=120000)
            time.sleep(1.5); wait_idle(page)          # the front end's first sync of the sliders has come and gone
            r0 = until(lambda: readout(page).get('σ̂') and readout(page), 30) or {}
            facts['readout at open σ̂, criterion'] = (r0.get('σ̂'), r0.get('criterion'))
            if r0.get('σ̂') != sigma: fails.append(f'readout at open: σ̂ {r0.get("σ̂")} != fit {sigma}')
            if r0.get('criterion') != crit: fails.append(f'readout at open: criterion {r0.get("criterion")} != fit {crit}')
            shot('open')
            # the whole widget inside the notebook panel, beside the file browser
            box = page.evaluate("""() => { const w = document.querySelector('.mixednb-explorer').getBoundingClientRect();
                const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').getBoundingClientRect();
                const f = document.querySelector('#filebrowser').getBoundingClientRect();
                const over = Array.from(document.querySelectorAll('.mixednb-explorer *')).filter(e => {
                    const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > p.right + 0.5 || r.left < p.left - 0.5); }).length;
                const out = document.querySelector('.mixednb-explorer').closest('.jp-OutputArea-output');
                return {left: w.left, right: w.right, top: w.top, bottom: w.bottom, panelLeft: p.left, panelRight: p.right,
                        fileRight: f.right, outside: over, scroll: out ? out.scrollWidth - out.clientWidth : 0}; }""")
            facts['widget box'] = {k: round(v) for k, v in box.items()}
            if box['left'] < box['fileRight'] or box['right'] > box['panelRight'] or box['outside'] or box['scroll'] > 0:
                fails.append(f'the widget does not fit beside the file browser: {box}')
            # the whole widget in one screenshot: scroll it to the top of the notebook; it must then lie wholly inside
            # the visible part of the notebook panel (beside the file browser), in the 1280-px window
            page.evaluate("() => document.querySelector('.mixednb-explorer').scrollIntoView({block: 'start'})")
            time.sleep(0.5); shot('widget')
            seen = page.evaluate(VISIBLE)
            facts['widget in the screenshot'] = seen
            if not seen['whole']: fails.append(f'the whole widget is not visible in one 1280-px screenshot: {seen}')
            # drag the first slider's handle to the right
            h = page.locator('.mixednb-explorer .noUi-handle').first
            b = h.bounding_box()
            page.mouse.move(b['x'] + b['width'] / 2, b['y'] + b['height'] / 2); page.mouse.down()
            page.mouse.move(b['x'] + b['width'] / 2 + 80, b['y'] + b['height'] / 2, steps=8); page.mouse.up()
            r1 = until(lambda: (lambda r: r if r.get('σ̂') and r.get('σ̂') != r0.get('σ̂') else None)(readout(page)), 30) or readout(page)
            facts['after drag σ̂'] = r1.get('σ̂')
            if r1.get('σ̂') == r0.get('σ̂'): fails.append('dragging a slider did not change the readout')
            time.sleep(1); wait_idle(page); shot('dragged')
            # ten arrow-key presses: fewer than ten recomputations, the last value read out
            run_cell(page, 2)
            before = output_text(page, 'UPDATES')
            page.locator('.mixednb-explorer .noUi-handle').nth(1).focus()
            for _ in range(10): page.keyboard.press('ArrowRight')
            time.sleep(2); wait_idle(page)
            run_cell(page, 2)
            after = until(lambda: (lambda o: o if o and o != before else None)(output_text(page, 'UPDATES')), 30)
            if before and after:
                n = int(after[0]) - int(before[0])
                th, sl = after[after.index('THETA') + 1:after.index('SLIDERS')], after[after.index('SLIDERS') + 1:after.index('STEP')]
                moved = (float(after[-1]) - float(before[-1])) / float(after[-3])
                facts['recomputations for 10 arrow keys'] = n
                facts['slider moved by steps'] = round(moved, 6)
                if abs(moved - 10) > 1e-6: fails.append(f'ten arrow-key presses moved the slider {moved} steps')
                if not 1 <= n < 10: fails.append(f'ten arrow-key presses made {n} recomputations (want 1 to 9)')
                if th != sl: fails.append(f'after the arrow keys the readout θ {th} is not the sliders\' {sl}')
            else: fails.append('could not read the update count')
            # reset
            page.locator('.mixednb-explorer button', has_text='θ̂').first.click()
            r2 = until(lambda: (lambda r: r if r.get('σ̂') == r0.get('σ̂') else None)(readout(page)), 30) or readout(page)
            facts['after reset σ̂, criterion'] = (r2.get('σ̂'), r2.get('criterion'))
            if (r2.get('σ̂'), r2.get('criterion')) != (sigma, crit): fails.append(f'reset: readout {r2.get("σ̂")}, {r2.get("criterion")} != fit {sigma}, {crit}')
            time.sleep(1); wait_idle(page)
            page.evaluate("() => document.querySelector('.mixednb-explorer').scrollIntoView({block: 'start'})")
            time.sleep(0.5); shot('reset')
            # a narrow window (the notebook panel ~500 px beside the file browser): the rows wrap, nothing sticks out
            page.set_viewport_size({'width': 820, 'height': 1000}); time.sleep(1)
            narrow = page.evaluate("""() => { const p = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook').getBoundingClientRect();
                const w = document.querySelector('.mixednb-explorer').getBoundingClientRect();
                const over = Array.from(document.querySelectorAll('.mixednb-explorer *')).filter(e => {
                    const r = e.getBoundingClientRect(); return r.width > 0 && r.right > p.right + 0.5; }).length;
                return {panel: Math.round(p.width), widget: Math.round(w.width), outside: over}; }""")
            facts['narrow window'] = narrow
            if narrow['outside'] or narrow['widget'] > narrow['panel']: fails.append(f'the widget overflows a narrow panel: {narrow}')
            page.evaluate("() => document.querySelector('.mixednb-explorer').scrollIntoView({block: 'start'})")
            time.sleep(0.5); shot('narrow')
            if console: fails.append(f'page errors: {console[:5]}')
            browser.close()
    except Exception as e:
        fails.append(f'{type(e).__name__}: {e}')
    finally:
        proc.terminate()
        try: proc.wait(10)
        except subprocess.TimeoutExpired: proc.kill()
        if fails: print(log.read_text()[-2000:], file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)
    for k, v in facts.items(): print(f'[check_lab] {k}: {v}')
    print(f'[check_lab] screenshots in {SHOTS.relative_to(ROOT)}/ ({time.time() - t0:.1f}s)')
    if fails:
        print('check_lab: FAILED\n  ' + '\n  '.join(fails), file=sys.stderr); sys.exit(1)
    print('check_lab: JupyterLab explorer OK')

if __name__ == '__main__': main()
