__version__ = "0.0.1"

# The public names, and every module of the package: each module that defines methods of LinearMixedModel with
# fastcore's @patch (summary, predict, anova, confint, satterthwaite, diagnostics, plots, display, widgets) is part of
# the package's API, so `import mixednb` gives a model with all of its methods.
from .core import MixedModelError, MixedModelWarning
from .fit import lmer, LinearMixedModel
from .glmm import glmer, GeneralizedLinearMixedModel
from .datasets import load, names as dataset_names
from .anova import anova
from .predict import boot_ci
from .confint import Profile
from .summary import Summary
from . import satterthwaite, diagnostics, plots, display, widgets, bayes   # bayes imports PyMC only when used
