"""The profiled criterion in high precision (Python's decimal, 60 digits by default), dense and independent of
mixednb's factorization: Ω = [ZΛ X y]'[ZΛ X y] + diag(I_q, 0) reduced by Gaussian elimination (LDL', no square
roots), whose pivots give log|Λ'Z'ZΛ + I| (the first q), log|R_X|² (the next p) and the penalized RSS (the last):

    ML:   ldL2 + n (1 + log(2π pwrss / n))
    REML: ldL2 + ldRX2 + (n − p)(1 + log(2π pwrss / (n − p)))

The inputs are the model's own Z, Λ(θ), X and y (doubles, converted exactly); every product and sum after that is
carried in 60 digits. For small problems (q + p + 1 up to a few hundred).

    python benchmarks/criterion_hp.py bad.pkl     # the pairs saved by invariance_pairs.py --save: both θ̂ of each,
                                                  # our double-precision criterion against this one

The same evaluation checks tests/test_precision.py's stored values (tests/reference/precision/make.py)."""
import sys
from decimal import Decimal, getcontext
import numpy as np


def criterion_hp(Z, Lam, X, y, reml, prec=60):
    """The criterion (a Decimal) and its parts (ldL2, ldRX2, pwrss) from dense or sparse Z, Λ, X and y, in `prec` digits."""
    getcontext().prec = prec
    Z = Z.toarray() if hasattr(Z, 'toarray') else np.asarray(Z)
    Lam = Lam.toarray() if hasattr(Lam, 'toarray') else np.asarray(Lam)
    X, y = np.atleast_2d(np.asarray(X, float).T).T, np.asarray(y, float)
    n, q, p = Z.shape[0], Z.shape[1], X.shape[1]
    D = lambda v: [Decimal(float(a)) for a in v]
    # ZΛ column by column, exactly summed in 60 digits: (ZΛ)_rc = Σ_k Z_rk Λ_kc
    cols = []
    for c in range(q):
        nz = np.flatnonzero(Lam[:, c])
        col = {}
        for k in nz:
            lk = Decimal(float(Lam[k, c]))
            for r in np.flatnonzero(Z[:, k]): col[r] = col.get(r, Decimal(0)) + Decimal(float(Z[r, k])) * lk
        cols.append(col)
    for v in list(X.T) + [y]: cols.append({r: Decimal(float(a)) for r, a in enumerate(v) if a != 0})
    N = q + p + 1
    Om = [[Decimal(0)] * N for _ in range(N)]
    for i in range(N):
        for j in range(i + 1):
            a, b = (cols[i], cols[j]) if len(cols[i]) <= len(cols[j]) else (cols[j], cols[i])
            s = sum((v * b[r] for r, v in a.items() if r in b), Decimal(0))
            Om[i][j] = Om[j][i] = s
        if i < q: Om[i][i] += 1
    piv = []
    for k in range(N):                                        # Gaussian elimination, skipping zeros
        d = Om[k][k]; piv.append(d)
        rk = Om[k]
        nzk = [j for j in range(k + 1, N) if rk[j] != 0]
        for i in nzk:
            f = rk[i] / d; ri = Om[i]
            for j in nzk:
                if j >= i: ri[j] -= f * rk[j]
            for j in nzk:
                if j > i: Om[j][i] = ri[j]
    ldL2 = sum((d.ln() for d in piv[:q]), Decimal(0))
    ldRX2 = sum((d.ln() for d in piv[q:q + p]), Decimal(0))
    pw = piv[-1]
    nu = n - p if reml else n
    two_pi = 2 * Decimal('3.14159265358979323846264338327950288419716939937510582097494459230781640628620899')
    crit = ldL2 + (ldRX2 if reml else 0) + nu * (1 + (two_pi * pw / nu).ln())
    return crit, dict(ldL2=ldL2, ldRX2=ldRX2, pwrss=pw)


def model_hp(m, theta, prec=60):
    "`criterion_hp` at θ for a LinearMixedModel m (no weights, no offset)."
    d = m.design
    return criterion_hp(d.Z, d.Lambda(np.asarray(theta, float)), d.X, d.y, m.REML, prec)


def ours(m, theta):
    "Our double-precision criterion and its parts at θ."
    from mixednb.objective import update_L, logdet, ldRX2, pwrss, criterion
    A = m.A
    L = update_L(A, np.asarray(theta, float))
    return criterion(L, A.n, A.p, len(A.terms), m.REML), dict(ldL2=logdet(L, len(A.terms)), ldRX2=ldRX2(L), pwrss=pwrss(L))


def main(path):
    import pandas as pd
    from mixednb import LinearMixedModel
    R = pd.read_pickle(path)
    for _, r in R.iterrows():
        print(f"{r.property}: {r.formula} n={r.n} REML={r.REML} sigma={r.sigma1:.3g} gap={r.gap:.3e} rel={r.rel:.2e}")
        crits = []
        for k in ('1', '2'):
            m = LinearMixedModel(r.formula, r[f'data{k}'], REML=r.REML)
            th = r[f'theta{k}']
            hp, parts = model_hp(m, th)
            o, op = ours(m, th)
            crits.append((float(hp), o, r[f'crit{k}']))
            print(f"  fit {k}: θ̂ = {np.array2string(th, precision=6, max_line_width=200)}")
            print(f"    fit's criterion {r[f'crit{k}']:.12f}, ours at θ̂ {o:.12f}, 60 digits {float(hp):.12f}: error {o - float(hp):+.2e}"
                  f" (ldL2 {op['ldL2'] - float(parts['ldL2']):+.2e}, ldRX2 {op['ldRX2'] - float(parts['ldRX2']):+.2e},"
                  f" pwrss rel {op['pwrss'] / float(parts['pwrss']) - 1:+.2e})")
        shift = crits[1][2] - crits[0][2] - r.gap              # the exact shift the property implies (0 for row/labels)
        print(f"  60-digit gap (fit 2 − shift − fit 1): {crits[1][0] - shift - crits[0][0]:+.3e}")


if __name__ == '__main__':
    main(sys.argv[1])
