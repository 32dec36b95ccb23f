__version__ = "0.0.1"

from .formula import MixedModelError
from .fit import lmer, LinearMixedModel, MixedModelWarning
from .datasets import load, names as dataset_names
# modules that add methods to LinearMixedModel: summary(); predict()/simulate()/refit()/bootstrap(); anova()/refit_ml();
# confint()/profile(); coef_table()/anova_type3(); check_convergence()/explain_singular(); plot_*(); explore_theta()
from . import summary as _summary, predict as _predict, anova as _anova, confint as _confint
from . import satterthwaite as _satterthwaite, diagnostics as _diagnostics, plots as _plots, widgets as _widgets
from . import display as _display  # _repr_html_, plot_Z, plot_Lambda, plot_L_blocks
from .anova import anova
