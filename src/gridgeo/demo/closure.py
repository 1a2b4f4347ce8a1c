"""Which demo cases are still open and which closed late: an integer programme over case strata.

The bulletin fixes closure counts along many crossing margins at once (area × platform, key classes,
key cases per area, streets, grid workers). Cases are grouped into strata by every attribute those
margins use; a small mixed-integer programme (HiGHS, through SciPy) chooses how many of each stratum
are unclosed and how many closed late so that every margin holds, staying as close as it can to an
even spread; then the cases of each stratum are drawn at random.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from gridgeo.demo.plan import PLATFORMS, MonthPlan, rate_window
from gridgeo.errors import CalibrationError

__all__ = ["assign_closure"]

_STRATA = ["area", "platform", "street", "keygroup", "gw", "srcgroup", "long"]


def _keygroup(df: pd.DataFrame, plan: MonthPlan) -> pd.Series:
    kg = pd.Series("nonkey", index=df.index, dtype="object")
    kg[df["is_key"].to_numpy()] = "key:other"
    if plan.exact:
        named = [m for m, *_ in plan.targets["key"]["top_minor"]] + [plan.targets["key"]["special"]["minor"]]
        for m in named:
            kg[(df["is_key"] & (df["minor"] == m)).to_numpy()] = f"key:{m}"
    return kg


def assign_closure(df: pd.DataFrame, plan: MonthPlan, *, long_limit: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Add boolean columns ``closed`` and ``late`` (closed after its deadline) meeting the plan."""
    work = pd.DataFrame({
        "area": df["area"], "platform": df["platform"], "street": df["street"],
        "keygroup": _keygroup(df, plan), "gw": df["handled_by_grid_worker"],
        "srcgroup": np.select([df["source"] == "卫星遥感", df["source"].isin(["视频", "鹰眼", "无人机"])],
                              ["sat", "tech"], "other"),
        "long": long_limit,
    })
    strata = work.groupby(_STRATA, sort=True, observed=True).size().rename("n").reset_index()
    s = len(strata)
    n_s = strata["n"].to_numpy()
    fixed_u = np.where(strata["srcgroup"] == "sat", n_s, 0)
    free = (strata["srcgroup"] == "other").to_numpy()
    # variables: u (s), l (s), du (s), dl (s)
    rows, cols, vals, lo, hi = [], [], [], [], []

    def add(mask: np.ndarray, var: int, low: float, high: float) -> None:
        idx = np.flatnonzero(mask)
        r = len(lo)
        rows.extend([r] * len(idx))
        cols.extend((var * s + idx).tolist())
        vals.extend([1.0] * len(idx))
        lo.append(low)
        hi.append(high)

    def sum_fixed(mask: np.ndarray) -> int:
        return int(fixed_u[mask].sum())

    target_u = np.zeros(s)
    target_l = np.zeros(s)
    for area in plan.unclosed:
        for pi, plat in enumerate(PLATFORMS):
            m = ((strata["area"] == area) & (strata["platform"] == plat)).to_numpy()
            U = plan.unclosed[area][pi] - sum_fixed(m)
            L = plan.late[area][pi]
            cap_n = n_s[m & free].sum()
            if U < 0 or U > cap_n or L > cap_n - U:
                raise CalibrationError(f"{area} {plat}: {U} unclosed and {L} late do not fit {cap_n} cases")
            add(m & free, 0, U, U)
            add(m & free, 1, L, L)
            if cap_n:
                target_u[m & free] = n_s[m & free] * U / cap_n
                target_l[m & free] = n_s[m & free] * L / cap_n
    kg = strata["keygroup"].to_numpy()
    if plan.exact:
        t = plan.targets
        is_key = np.char.startswith(kg.astype(str), "key:")
        total_key = int(strata.loc[is_key, "n"].sum())
        k_unclosed = total_key - t["key"]["closed"]
        add(is_key & free, 0, k_unclosed - sum_fixed(is_key), k_unclosed - sum_fixed(is_key))
        for m, _share, closure in t["key"]["top_minor"]:
            mm = kg == f"key:{m}"
            k = int(n_s[mm].sum())
            a, b = rate_window(k, closure)
            add(mm & free, 0, k - b - sum_fixed(mm), k - a - sum_fixed(mm))
        sp = t["key"]["special"]
        mm = kg == f"key:{sp['minor']}"
        k = int(n_s[mm].sum())
        if k != sp["registered"]:
            raise CalibrationError(f"{sp['minor']}: {k} key cases, target {sp['registered']}")
        add(mm & free, 0, k - sp["closed"] - sum_fixed(mm), k - sp["closed"] - sum_fixed(mm))
        top = t["key"]["top_areas_by_closure"]
        floor_rate = min(r for _, r in top)
        for area in plan.unclosed:
            mm = is_key & (strata["area"] == area).to_numpy()
            k = int(n_s[mm].sum())
            rate = dict(top).get(area)
            if rate is not None:
                a, b = rate_window(k, rate)
                add(mm & free, 0, k - b - sum_fixed(mm), k - a - sum_fixed(mm))
            else:  # prints below the third-best area
                need = int(np.floor(k * (1 - floor_rate + 0.00005))) + 1
                add(mm & free, 0, need - sum_fixed(mm), np.inf)
        low = dict(t["streets"]["lowest_closure"])
        for street in strata["street"].unique():
            mm = (strata["street"] == street).to_numpy()
            k = int(n_s[mm].sum())
            if street in low:
                a, b = rate_window(k, low[street])
                add(mm & free, 0, k - b - sum_fixed(mm), k - a - sum_fixed(mm))
            else:
                add(mm & free, 0, 0, np.floor(k * (1 - plan.min_closure_others)) - sum_fixed(mm))
    for area, u in plan.grid_worker["unclosed"].items():
        mm = (strata["gw"].to_numpy()) & (strata["area"] == area).to_numpy()
        if mm.any():
            u = min(u, int(n_s[mm & free].sum()))
            add(mm & free, 0, u, u)
    # per stratum: u + l ≤ n; no late closure for long limits; deviations |u - ū|, |l - l̄|
    for i in range(s):
        r = len(lo)
        rows.extend([r, r])
        cols.extend([i, s + i])
        vals.extend([1.0, 1.0])
        lo.append(0)
        hi.append(n_s[i] if free[i] else 0)
    for var, target in ((0, target_u), (1, target_l)):
        for sign in (1.0, -1.0):
            r0 = len(lo)
            idx = np.arange(s)
            rows.extend(np.repeat(np.arange(r0, r0 + s), 2).tolist())
            cols.extend(np.column_stack([var * s + idx, (var + 2) * s + idx]).ravel().tolist())
            vals.extend(np.tile([sign, 1.0], s).tolist())
            lo.extend((sign * target).tolist())
            hi.extend([np.inf] * s)
    A = coo_matrix((vals, (rows, cols)), shape=(len(lo), 4 * s)).tocsr()
    ub = np.concatenate([np.where(free, n_s, 0), np.where(free & ~strata["long"].to_numpy(), n_s, 0),
                         np.full(2 * s, np.inf)])
    c = np.concatenate([np.zeros(2 * s), np.ones(2 * s)])
    integrality = np.concatenate([np.ones(2 * s), np.zeros(2 * s)])
    res = milp(c, constraints=LinearConstraint(A, np.array(lo), np.array(hi)), integrality=integrality,
               bounds=Bounds(np.zeros(4 * s), ub), options={"time_limit": 120, "disp": False})
    if res.x is None:
        raise CalibrationError(f"the closure targets of {plan.month} cannot all be met ({res.message})")
    u = np.round(res.x[:s]).astype(int) + fixed_u
    late = np.round(res.x[s : 2 * s]).astype(int)
    closed = np.ones(len(df), dtype=bool)
    is_late = np.zeros(len(df), dtype=bool)
    codes = work.groupby(_STRATA, sort=True, observed=True).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(s + 1))
    for i in range(s):
        members = rng.permutation(order[bounds[i] : bounds[i + 1]])
        closed[members[: u[i]]] = False
        is_late[members[u[i] : u[i] + late[i]]] = True
    out = df.copy()
    out["closed"] = closed
    out["late"] = is_late
    return out
