"""Case attributes of a demo month: area, source, platform, street, class, key flag, grid-worker flag."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgeo.demo.plan import GROUPS, MonthPlan, rate_window
from gridgeo.errors import CalibrationError

__all__ = ["build_attributes"]


def _water_fill(avail: dict[str, int], total: int, cap: dict[str, int]) -> dict[str, int]:
    """Split ``total`` over classes in proportion to ``avail``, never above ``cap`` or ``avail``."""
    out = {k: 0 for k in avail}
    left = total
    open_ = [k for k in avail if min(avail[k], cap.get(k, avail[k])) > 0]
    while left > 0 and open_:
        w = np.array([avail[k] for k in open_], dtype="float64")
        share = np.floor(w / w.sum() * left).astype(int)
        if share.sum() == 0:
            share[np.argmax(w)] = 1
        for k, s in zip(open_, share):
            room = min(avail[k], cap.get(k, avail[k])) - out[k]
            take = min(room, s, left)
            out[k] += take
            left -= take
        open_ = [k for k in open_ if min(avail[k], cap.get(k, avail[k])) - out[k] > 0]
    if left > 0:
        raise CalibrationError(f"cannot place {left} cases within the class caps of a pinned street")
    return out


def _street_counts(plan: MonthPlan, streets: pd.DataFrame, cells: pd.Series, rng: np.random.Generator) -> dict[str, int]:
    """Cases per street: pinned streets as planned, the others share their area by weight."""
    out: dict[str, int] = {}
    pinned = plan.street_counts
    top = [t["street"] for t in plan.targets.get("streets", {}).get("top", [])]
    cap = min(pinned[s] for s in top) - 1 if plan.exact and top else None  # the top streets stay on top
    for area, group in streets.groupby("area", sort=True):
        total = sum(plan.source_by_area.get(area, {}).values())
        fixed = {s: n for s, n in pinned.items() if s in set(group["name"])}
        rest = group[~group["name"].isin(list(fixed))]
        w = cells.reindex(rest["code"]).fillna(1).to_numpy() * rng.lognormal(0.0, 0.5, len(rest))
        left = total - sum(fixed.values())
        if left < 0:
            raise CalibrationError(f"pinned streets of {area} hold more cases than the area")
        weights = dict(zip(rest["name"], w))
        counts = _water_fill({k: max(1, int(v * 1e6)) for k, v in weights.items()}, left,
                             {k: cap for k in weights} if cap else {})
        out.update(fixed)
        out.update(counts)
    return out


def _pick(rng: np.random.Generator, idx: np.ndarray, k: int, weights: np.ndarray | None = None) -> np.ndarray:
    if k <= 0:
        return idx[:0]
    if k >= len(idx):
        return idx
    if weights is None:
        return rng.choice(idx, size=k, replace=False)
    p = weights / weights.sum()
    return rng.choice(idx, size=k, replace=False, p=p)


def build_attributes(plan: MonthPlan, *, streets: pd.DataFrame, cells_per_street: pd.Series, categories: pd.DataFrame,
                     platform_of: dict[str, str], rng: np.random.Generator) -> pd.DataFrame:
    """One row per case with area, source, platform, street, street_code, district, kind, major, minor,
    is_key, weight and handled_by_grid_worker, meeting the plan's counts exactly."""
    # 1. area × source
    areas, sources = [], []
    for area, row in plan.source_by_area.items():
        for src, n in row.items():
            areas += [area] * n
            sources += [src] * n
    df = pd.DataFrame({"area": areas, "source": sources})
    n = len(df)
    order = rng.permutation(n)
    df = df.iloc[order].reset_index(drop=True)
    df["platform"] = df["source"].map(platform_of)
    for src, exc in plan.platform_exceptions.items():
        for area, k in exc["by_area"].items():
            idx = np.flatnonzero((df["source"] == src).to_numpy() & (df["area"] == area).to_numpy())[:k]
            df.loc[idx, "platform"] = exc["platform"]
    df["group"] = df["source"].map(GROUPS).fillna("general")

    # 2. streets
    counts = _street_counts(plan, streets, cells_per_street, rng)
    df["street"] = pd.Series(pd.NA, index=df.index, dtype="object")
    for area, group in streets.groupby("area", sort=True):
        idx = np.flatnonzero((df["area"] == area).to_numpy())
        labels = np.repeat(group["name"].to_numpy(), [counts[s] for s in group["name"]])
        if len(labels) != len(idx):
            raise CalibrationError(f"{area}: street counts {len(labels)} ≠ area cases {len(idx)}")
        df.loc[idx, "street"] = rng.permutation(labels)
    info = streets.set_index("name")
    df["street_code"] = df["street"].map(info["code"])
    df["district"] = df["street"].map(info["district"])

    # 3. classes: non-general groups first, then pinned streets, then the rest
    df["minor"] = pd.Series(pd.NA, index=df.index, dtype="object")
    pool = {m: nk[0] for m, nk in plan.classes.get("general", {}).items()}
    for g, classes in plan.classes.items():
        if g == "general":
            continue
        idx = np.flatnonzero((df["group"] == g).to_numpy())
        labels = np.repeat(list(classes), [v[0] for v in classes.values()])
        if len(labels) != len(idx):
            raise CalibrationError(f"class group {g}: {len(labels)} classes for {len(idx)} cases")
        df.loc[idx, "minor"] = rng.permutation(labels)
    general = (df["group"] == "general").to_numpy()
    if plan.exact:
        for spec in plan.targets["streets"]["top"]:
            s = spec["street"]
            in_street = (df["street"] == s).to_numpy()
            n_street = int(in_street.sum())
            have = df.loc[in_street & ~general, "minor"].value_counts().to_dict()
            gidx = np.flatnonzero(in_street & general)
            want = {}
            for minor, share in spec["top_minor"]:
                lo, hi = rate_window(n_street, share)
                want[minor] = lo - have.get(minor, 0)
            cap_all = min(lo for lo, _ in (rate_window(n_street, sh) for _, sh in spec["top_minor"])) - 1
            avail = {m: pool[m] for m in pool if m not in want}
            caps = {m: cap_all - have.get(m, 0) for m in avail}
            fill = _water_fill(avail, len(gidx) - sum(want.values()), caps)
            labels = np.repeat(list(want) + list(fill), list(want.values()) + list(fill.values()))
            df.loc[gidx, "minor"] = rng.permutation(labels)
            for m, k in {**want, **fill}.items():
                pool[m] -= k
                if pool[m] < 0:
                    raise CalibrationError(f"{s}: needs more {m} cases than the month has")
    rest = np.flatnonzero(general & df["minor"].isna().to_numpy())
    labels = np.repeat(list(pool), list(pool.values()))
    if len(labels) != len(rest):
        raise CalibrationError(f"general classes: {len(labels)} classes for {len(rest)} cases")
    df.loc[rest, "minor"] = rng.permutation(labels)

    cat = categories.set_index("minor")
    missing = sorted(set(df["minor"]) - set(cat.index))
    if missing:
        raise CalibrationError(f"classes not in the class table: {missing}")
    df["kind"] = df["minor"].map(cat["kind"])
    if plan.hotline_kind is None:
        df.loc[(df["group"] == "12345热线").to_numpy(), "kind"] = None
    df["major"] = df["minor"].map(cat["major"])
    df["weight"] = df["minor"].map(cat["weight"]).astype("float64")

    # 4. key flags: per group and class, weighted by the area's propensity
    prop = df["area"].map(plan.key_propensity).fillna(1.0).to_numpy()
    key = np.zeros(n, dtype=bool)
    for g, classes in plan.classes.items():
        gmask = (df["group"] == g).to_numpy()
        for minor, (_, k) in classes.items():
            idx = np.flatnonzero(gmask & (df["minor"] == minor).to_numpy())
            key[_pick(rng, idx, min(k, len(idx)), prop[idx])] = True
    df["is_key"] = key

    # 5. grid-worker cases
    gw = np.zeros(n, dtype=bool)
    eligible = general & df["minor"].isin(plan.grid_worker["classes"]).to_numpy() & (df["kind"] == "事件").to_numpy()
    for area, k in plan.grid_worker["count"].items():
        idx = np.flatnonzero(eligible & (df["area"] == area).to_numpy())
        if k > len(idx):
            raise CalibrationError(f"{area}: {k} grid-worker cases planned but only {len(idx)} eligible cases")
        gw[_pick(rng, idx, k)] = True
    df["handled_by_grid_worker"] = gw
    return df
