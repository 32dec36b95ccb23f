__version__ = "0.0.1"

from .formula import MixedModelError
from .fit import lmer, LinearMixedModel, MixedModelWarning
from .datasets import load, names as dataset_names
from . import summary as _summary  # adds LinearMixedModel.summary and the lme4-style printout
