"""The README's commands are true: the fit command runs through the installed `mixednb` script and prints lme4's
summary, the test command is what CI runs, and README.md is generated from nbs/index.ipynb."""
import re, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / 'README.md').read_text()
COMMANDS = re.findall(r"```sh\n(.*?)\n```", README)

def test_two_commands():
    assert len(COMMANDS) == 2, COMMANDS
    assert COMMANDS[0].startswith('python3 -m venv .venv') and ' mixednb fit ' in COMMANDS[0]
    assert COMMANDS[1].startswith('python3 -m venv .venv') and COMMANDS[1].endswith('python -m pytest tests')

def test_fit_command_prints_summary():
    fit = COMMANDS[0].split(' && ')[-1]
    exe = shutil.which('mixednb', path=str(Path(sys.executable).parent))
    assert exe, "the mixednb console script is not installed next to this Python"
    out = subprocess.run(fit.replace('mixednb', f'"{exe}"', 1), shell=True, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for piece in ["Linear mixed model fit by REML", "REML criterion at convergence: 1743.6", "Number of obs: 180, groups:  Subject, 18"]:
        assert piece in out.stdout

def test_ci_runs_readme_test_command():
    ci = (ROOT / '.ci' / 'run').read_text()
    assert 'README.md' in ci and 'eval "$test_cmd"' in ci

def test_readme_generated_from_index():
    out = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
