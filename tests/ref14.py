"""The six REML fits of tests/reference/inference14 (made by its make_refs.R), shared by the issue-14 tests."""
import json, warnings
from functools import lru_cache
from pathlib import Path
import numpy as np
from mixednb import lmer, load

REF14 = json.loads((Path(__file__).parent / 'reference' / 'inference14' / 'inference14.json').read_text())

def as_list(x):
    "jsonlite writes a length-one vector as a scalar."
    return x if isinstance(x, list) else [x]

def data_of(name):
    "The data of reference model `name` (the unbalanced sleep study drops rows 3, 10, 17, … as make_refs.R does)."
    d = load(REF14['models'][name]['data'])
    return d[np.arange(len(d)) % 7 != 3] if name == 'sleep_unbal' else d

@lru_cache(None)
def fit14(name):
    "lmer of reference model `name` by REML."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return lmer(REF14['models'][name]['formula'], data_of(name))
