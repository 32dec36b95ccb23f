__version__ = "0.0.1"

# The public names, and every module of the package that defines methods of LinearMixedModel with fastcore's
# @patch (summary, predict, anova, confint, satterthwaite, diagnostics, plots, display, widgets): importing them
# here makes `import mixednb` give a model with all of its methods. Those modules import matplotlib, ipywidgets and
# scipy.stats inside the functions that use them, so importing them is quick; the GLMM modules (which need
# scipy.stats at import: glmm, and glmm_inference with its methods, which glmm imports at its end) are loaded on first
# use of `glmer`, `glmer_nb` or `GeneralizedLinearMixedModel`.
# tests/test_import.py holds `import mixednb` to this.
from .core import MixedModelError, MixedModelWarning
from .fit import lmer, LinearMixedModel
from .datasets import load, names as dataset_names
from .anova import anova
from .predict import boot_ci
from .confint import Profile
from .summary import Summary
from .random_effects import RandomEffects
from . import satterthwaite, diagnostics, plots, display, widgets, kenward_roger, emmeans, mertools, persist, allfit, bayes   # bayes: PyMC on use

_LAZY = {'glmer': 'glmm', 'glmer_nb': 'glmm', 'GeneralizedLinearMixedModel': 'glmm'}   # name -> module it comes from, imported on first use

__all__ = ['MixedModelError', 'MixedModelWarning', 'lmer', 'LinearMixedModel', 'glmer', 'glmer_nb', 'GeneralizedLinearMixedModel',
           'load', 'dataset_names', 'anova', 'boot_ci', 'Profile', 'Summary', 'RandomEffects']

def __getattr__(name):
    "`mixednb.glmer` etc.: import the module on first use (PEP 562)."
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(f'{__name__}.{_LAZY[name]}'), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

def __dir__(): return sorted(set(globals()) | set(_LAZY))
