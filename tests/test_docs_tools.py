"""The documentation build's code filter (tools/build_docs.py): what a page shows of a notebook's code cells."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / 'tools'))
from build_docs import drop_tests, drop_test_support   # noqa: E402


def shown(*cells, figures=()):
    "What the page shows of these cells: tests dropped, then what only fed them."
    kept = [drop_tests(c) for c in cells]
    code = [k for k in kept if k]
    out = iter(drop_test_support(code, list(cells), [i in figures for i, k in enumerate(kept) if k]))
    return [next(out) if k else None for k in kept]


def test_a_reference_read_only_by_tests_is_not_shown():
    a = "ref = json.load(open('../tests/reference/x.json'))\nm = lmer('y ~ 1 + (1|g)', d)\nw = wald_ci(m)\nw"
    b = "test_close(w, ref['w'])"
    assert shown(a, b) == ["m = lmer('y ~ 1 + (1|g)', d)\nw = wald_ci(m)\nw", None]


def test_expected_values_typed_in_go_inputs_typed_in_stay():
    cell = ("cols = ['a', 'b']\nt = translate('a + b', cols)\nlme4 = [1.5, 2.5]\n"
            "test_eq(t.names, cols)\ntest_close(t.values, lme4)")
    assert shown(cell) == ["cols = ['a', 'b']\nt = translate('a + b', cols)"]


def test_a_harness_buffer_and_what_it_captured_go():
    cell = ("buf = io.StringIO()\nwith redirect_stdout(buf):\n    rc = main(['fit', 'f', 'd'])\nout = buf.getvalue()\n"
            "test_eq(rc, 0)\nassert 'AIC' in out")
    assert shown(cell) == [None]


def test_a_with_left_with_only_warning_filters_goes():
    cell = ("with warnings.catch_warnings():\n    warnings.simplefilter('ignore')\n"
            "    test_fail(lambda: anova(m), contains='2 models')")
    assert shown(cell) == [None]


def test_a_name_a_later_cell_shows_keeps_its_assignment():
    a = "ref = json.load(open('../tests/reference/x.json'))\nvc = ref['varcorr']"
    b = "plot(vc)"
    assert shown(a, b, figures=(1,)) == [a, b]


def test_an_example_that_assigns_and_shows_nothing_stays():
    cell = "th = m.theta\nx = th * 2"
    assert shown(cell) == [cell]


def test_a_test_sharing_a_line_is_cut_out_of_it():
    assert drop_tests("L = f(2); test_close(L, [1, 2], eps=1e-4)") == "L = f(2)"
    assert drop_tests("a = 1; test_eq(a, 1); b = 2") == "a = 1; b = 2"
    assert drop_tests("test_eq(a, 1); b = 2  # c") == "b = 2  # c"
    assert drop_tests("x = 'é'; assert x") == "x = 'é'"
    assert drop_tests("try: g()\nexcept ValueError as e: test_eq(type(e), E)\nx = 1") == \
        "try: g()\nexcept ValueError as e: pass\nx = 1"


def test_a_loop_over_a_reference_that_only_fed_tests_goes():
    a = "ref = json.load(open('../tests/reference/r.json'))\nfits = {n: fit(n) for n in names}"
    b = ("for name, r in ref['models'].items():\n    fm, c = fits[name], r['coef']\n    ct = table(fm)\n"
         "    test_close(ct, c)\ntable(fits['chick'])")
    assert shown(a, b) == ["fits = {n: fit(n) for n in names}", "table(fits['chick'])"]


def test_an_if_on_a_reference_that_only_fed_tests_goes():
    a = ("_REF = pathlib.Path('../tests/reference/glmm/x.json')\nREF = json.loads(_REF.read_text()) if _REF.exists() else {}\n"
         "gm = glmer('y ~ 1 + (1|g)', d)")
    b = "tab = anova(gm0, gm)\nif REF:\n    _a = REF['anova']\n    test_close(tab.AIC, _a['AIC'])\ntab"
    assert shown(a, b) == ["gm = glmer('y ~ 1 + (1|g)', d)", "tab = anova(gm0, gm)\ntab"]


def test_rst_literals_are_not_linked():
    "``x`` spans stay code, never a link (linked inside backticks they rendered as raw markdown)."
    import re
    from build_docs import _literals_kept
    fake = lambda t: re.sub(r'`(\w+)`', r'[`\1`](URL)', t)
    assert _literals_kept(fake)("``restarts`` and ``conditioning``; see `optimize`") == \
        "`restarts` and `conditioning`; see [`optimize`](URL)"


def test_no_control_characters_in_markdown():
    "A `\\t` or `\\b` written into a notebook's markdown by a script (Python ate the backslash) breaks its math."
    import json
    root = Path(__file__).parents[1] / 'nbs'
    bad = [(nb.name, i) for nb in sorted(root.rglob('*.ipynb')) for i, c in enumerate(json.loads(nb.read_text())['cells'])
           if c['cell_type'] == 'markdown' and any(ch in ''.join(c['source']) for ch in '\t\x08\x0c\x07\x0b')]
    assert not bad, bad
