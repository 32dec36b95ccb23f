"""Benchmark: one update of the θ sliders (`ThetaExplorer`) — the model at a new θ, the readout, the figure rendered.

    python benchmarks/sliders.py

Prints the median and the 90th percentile over 30 slider moves for sleepstudy (target: well under 100 ms), split
into the computation (`state_at`: the factor, β̂, σ̂, b̂ at θ) and the whole update (with the figure rendered to
PNG), and the same for the cafés and Penicillin. The machines are shared and noisy: compare figures of one run.
"""
import time, warnings
import numpy as np

def bench(name, formula, data):
    from mixednb import lmer, load
    from mixednb.widgets import ThetaExplorer, state_at
    warnings.simplefilter('ignore')
    m = lmer(formula, load(data))
    ex = ThetaExplorer(m)
    lo, hi = ex.sliders[0].min, ex.sliders[0].max
    vals = np.linspace(lo + 0.1 * (hi - lo), hi - 0.1 * (hi - lo), 30)
    comp, full = [], []
    for v in vals:
        th = m.theta.copy(); th[0] = v
        t0 = time.perf_counter(); state_at(m, th); comp.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); ex.sliders[0].value = float(v); full.append(time.perf_counter() - t0)
    ms = lambda xs: f"median {1000 * np.median(xs):6.1f} ms, p90 {1000 * np.quantile(xs, .9):6.1f} ms"
    print(f"{name:11s} computation: {ms(comp)}   whole update: {ms(full)}   (plot: {'shrinkage' if ex.plot else 'none'})")

if __name__ == '__main__':
    bench('sleepstudy', "Reaction ~ Days + (Days | Subject)", 'sleepstudy')
    bench('cafes', "wait ~ 1 + afternoon + (1 + afternoon | cafe)", 'cafes')
    bench('Penicillin', "diameter ~ 1 + (1 | plate) + (1 | sample)", 'Penicillin')
