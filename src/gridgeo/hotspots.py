"""Hotspot statistics on H3 cells: Getis–Ord Gi* with Benjamini–Hochberg FDR, and emerging hotspots.

Gi* uses binary k-ring weights that include the cell itself, over every cell of the study area
(cells with no case count as zeros). Its z-score is the analytical one of
``esda.G_Local(y, w, star=True, transform="B").Zs``: with n cells, W_i neighbours of cell i,
G_i = Σ_j w_ij y_j / Σ y, E[G_i] = W_i / n and
Var[G_i] = W_i (n − W_i) / (n − 1) / n² · s² / ȳ², s² = mean(y²) − ȳ².
p-values are two-sided normal; significance is decided after the Benjamini–Hochberg procedure.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy import sparse, stats

from gridgeo.bins import bin_cases, cell_polygons, cells_of
from gridgeo.boundaries import load_boundaries
from gridgeo.clusters import cluster_cases, load_params
from gridgeo.errors import InputError
from gridgeo.geocode import geocode
from gridgeo.io import read_store, store_months, write_csv, write_layers
from gridgeo.profile import default_profile

__all__ = ["EMERGING_CATEGORIES", "emerging_hotspots", "fdr_bins", "gi_star", "hotspot_layers", "kring_weights",
           "mann_kendall", "write_hotspots"]

LEVELS = ((0.01, 3), (0.05, 2), (0.10, 1))
MAX_MONTHS = 12  # emerging hotspots look back over at most this many months of the store  # confidence 99 / 95 / 90 % → bin ±3 / ±2 / ±1


def kring_weights(cells: list[str], k: int = 1) -> sparse.csr_matrix:
    """Binary weights: w_ij = 1 when cell j is within k rings of cell i (itself included), among ``cells``."""
    pos = {c: i for i, c in enumerate(cells)}
    rows, cols = [], []
    for i, c in enumerate(cells):
        for nb in h3.grid_disk(c, k):
            j = pos.get(nb)
            if j is not None:
                rows.append(i)
                cols.append(j)
    n = len(cells)
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def gi_star(y: np.ndarray, w: sparse.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Gi* z-scores and two-sided p-values; NaN where the statistic is undefined (no variation)."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    z = np.full(n, np.nan)
    if n < 3 or y.sum() == 0:
        return z, np.full(n, np.nan)
    mean = y.mean()
    var = (y**2).mean() - mean**2
    if var <= 0:
        return z, np.full(n, np.nan)
    card = np.asarray(w.sum(axis=1)).ravel()
    g = (w @ y) / y.sum()
    eg = card / n
    vg = card * (n - card) / (n - 1) / n**2 * var / mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(vg > 0, (g - eg) / np.sqrt(vg), np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return z, p


def _bh(p: np.ndarray, alpha: float) -> np.ndarray:
    """Benjamini–Hochberg: which p-values are significant at false-discovery rate ``alpha`` (NaN: not)."""
    ok = np.isfinite(p)
    out = np.zeros(len(p), dtype=bool)
    q = p[ok]
    m = len(q)
    if not m:
        return out
    order = np.argsort(q, kind="stable")
    thresh = alpha * np.arange(1, m + 1) / m
    passed = q[order] <= thresh
    if passed.any():
        kmax = np.flatnonzero(passed).max()
        sig = np.zeros(m, dtype=bool)
        sig[order[: kmax + 1]] = True
        out[np.flatnonzero(ok)] = sig
    return out


def fdr_bins(z: np.ndarray, p: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """ArcGIS-style bins −3…+3: the highest confidence (99/95/90 %) at which a cell stays significant
    after FDR correction (or raw p with ``fdr=False``), signed by its z-score."""
    bins = np.zeros(len(z), dtype=np.int64)
    for alpha, level in LEVELS[::-1]:
        sig = _bh(p, alpha) if fdr else (np.isfinite(p) & (p <= alpha))
        bins[sig] = level
    return np.where(np.nan_to_num(z) < 0, -bins, bins)


def mann_kendall(x: np.ndarray) -> tuple[float, float]:
    """Mann–Kendall trend test of a series: (z, two-sided p), with the tie-corrected variance."""
    x = np.asarray(x, dtype="float64")
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 3:
        return np.nan, np.nan
    s = sum(np.sign(x[j] - x[i]) for i in range(n - 1) for j in range(i + 1, n))
    _, t = np.unique(x, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - (t * (t - 1) * (2 * t + 5)).sum()) / 18.0
    if var <= 0:
        return 0.0, 1.0
    z = (s - np.sign(s)) / np.sqrt(var)
    return float(z), float(2.0 * stats.norm.sf(abs(z)))


EMERGING_CATEGORIES = (
    "新增热点", "连续热点", "加剧热点", "持续热点", "减弱热点", "零星热点", "振荡热点", "历史热点",
    "新增冷点", "连续冷点", "加剧冷点", "持续冷点", "减弱冷点", "零星冷点", "振荡冷点", "历史冷点", "无模式",
)
_EN = dict(zip(EMERGING_CATEGORIES, (
    "new hot", "consecutive hot", "intensifying hot", "persistent hot", "diminishing hot", "sporadic hot",
    "oscillating hot", "historical hot", "new cold", "consecutive cold", "intensifying cold", "persistent cold",
    "diminishing cold", "sporadic cold", "oscillating cold", "historical cold", "no pattern")))


def _category(bins: np.ndarray, trend_z: float, trend_p: float, alpha: float) -> str:
    """The ArcGIS emerging-hotspot category of one cell's series of significance bins.

    A step counts as hot (cold) when its bin is positive (negative): significant at 90 % confidence
    or more after FDR, as ArcGIS counts them. For hot spots (cold spots mirror it), in this order:
    - 振荡 (oscillating): significant hot at the final step and a significant cold spot at some earlier
      step, fewer than 90 % of the steps hot;
    - 新增 (new): significant only at the final step;
    - 连续 (consecutive): one uninterrupted run of significant steps ending at the final step, none
      before it, fewer than 90 % of all steps significant;
    - 加剧 / 持续 / 减弱 (intensifying / persistent / diminishing): significant in at least 90 % of the
      steps including the final; Mann–Kendall trend of its z-scores significantly rising / neither /
      significantly falling;
    - 零星 (sporadic): significant at the final step, on and off before, fewer than 90 %, never a
      significant cold spot;
    - 历史 (historical): not significant at the final step but hot in at least 90 % of the steps;
    - 无模式 (no pattern): none of these.
    """
    t = len(bins)
    for sign, prefix in ((1, ""), (-1, "冷")):
        sig = (bins * sign) > 0
        opp = (bins * sign) < 0
        name = (lambda s: s.replace("热点", "冷点")) if prefix else (lambda s: s)
        share = sig.mean()
        if sig[-1]:
            if share >= 0.9:
                rising = np.isfinite(trend_p) and trend_p <= alpha and trend_z * sign > 0
                falling = np.isfinite(trend_p) and trend_p <= alpha and trend_z * sign < 0
                return name("加剧热点" if rising else "减弱热点" if falling else "持续热点")
            if opp[:-1].any():
                return name("振荡热点")
            if sig.sum() == 1:
                return name("新增热点")
            run = 0
            for v in sig[::-1]:
                if not v:
                    break
                run += 1
            if run == sig.sum():
                return name("连续热点")
            return name("零星热点")
        if share >= 0.9 and not sig[-1] and t > 1:
            return name("历史热点")
    return "无模式"


def emerging_hotspots(counts: pd.DataFrame, cells: list[str], months: list[str], *, k: int = 1,
                      time_window: int = 1, alpha: float = 0.05) -> pd.DataFrame:
    """Emerging-hotspot categories of every study cell over ``months``.

    ``counts`` has columns h3, month, value. Space-time Gi* per month: a cell's neighbours are the
    cells within k rings, in this month and the ``time_window`` months before (where they exist),
    over all study cells × months, bins after FDR. Each cell's z-scores get a Mann–Kendall trend,
    significant at ``alpha``. Returns h3, category, category_en, trend_z, trend_p, n_hot, n_cold, final_bin.
    """
    n, T = len(cells), len(months)
    pos = {c: i for i, c in enumerate(cells)}
    tpos = {m: i for i, m in enumerate(months)}
    y = np.zeros((T, n))
    c = counts[counts["h3"].isin(pos) & counts["month"].isin(tpos)]
    np.add.at(y, (c["month"].map(tpos).to_numpy(), c["h3"].map(pos).to_numpy()), c["value"].to_numpy(dtype="float64"))
    ws = kring_weights(cells, k)
    # space-time weights over the stacked (month, cell) vector
    blocks = [[ws if 0 <= ti - tj <= time_window else None for tj in range(T)] for ti in range(T)]
    wst = sparse.bmat(blocks, format="csr") if T > 1 else ws
    z, p = gi_star(y.ravel(), wst)
    bins = fdr_bins(z, p).reshape(T, n)
    z = z.reshape(T, n)
    rows = []
    for i, cell in enumerate(cells):
        tz, tp = mann_kendall(z[:, i])
        cat = _category(bins[:, i], tz, tp, alpha)
        rows.append({"h3": cell, "category": cat, "category_en": _EN[cat], "trend_z": tz, "trend_p": tp,
                     "n_hot": int((bins[:, i] > 0).sum()), "n_cold": int((bins[:, i] < 0).sum()),
                     "final_bin": int(bins[-1, i])})
    return pd.DataFrame(rows)


# --- the hotspot stage: every layer of one month ------------------------------------------------


def hotspot_layers(cases: pd.DataFrame, *, month: str, boundaries, profile, area: str | None = None,
                   minor: str | None = None, resolution: int = 9, eps_m: float | None = None,
                   min_samples: int | None = None, method: str = "dbscan", k: int = 1, alpha: float = 0.05) -> dict:
    """The layers of ``gridgeo hotspots`` for ``month``: cells (Gi*), clusters, case_clusters, emerging.

    ``cases`` holds every month of the store that emerging hotspots should see (up to ``month``).
    The month's cases are geocoded first (the report counts them); the study area is the profile's
    unit-grid coverage (of ``area`` if given): every H3 cell holding a unit-grid cell's centre.
    """
    if area is not None and area not in profile.areas:
        raise InputError(f"unknown area {area!r}; the areas of {profile.name} are {', '.join(profile.areas)}")
    # geocode the month itself; earlier months feed only the emerging counts (points, class, area),
    # so they are geocoded only where an area filter needs an area they lack
    in_month = (cases["registered_at"].dt.strftime("%Y-%m") == month).to_numpy()
    now, report = geocode(cases[in_month], boundaries, area_aliases=profile.area_aliases)
    before = cases[~in_month]
    if area and len(before) and ("area" not in before or before["area"].isna().any()):
        before, _ = geocode(before, boundaries, area_aliases=profile.area_aliases)
    geo = pd.concat([before, now]) if len(before) else now
    if area:
        geo = geo[geo["area"] == area]
    if minor:
        geo = geo[geo["minor"] == minor]
    this = geo[geo["registered_at"].dt.strftime("%Y-%m") == month]
    grids = boundaries.grids if area is None else boundaries.grids[boundaries.grids["area"] == area]
    rp = shapely.get_coordinates(shapely.point_on_surface(np.asarray(grids.geometry.values, dtype=object)))
    study = sorted(set(cells_of(rp[:, 0], rp[:, 1], resolution)) - {None})
    b = bin_cases(this, resolution=resolution, by=())
    cells = pd.DataFrame({"h3": study}).merge(b, on="h3", how="outer").fillna({"count": 0, "weighted": 0.0})
    cells = cells.sort_values("h3", kind="stable").reset_index(drop=True)
    cells["count"] = cells["count"].astype("int64")
    cells["in_study_area"] = cells["h3"].isin(set(study))
    w = kring_weights(list(cells["h3"]), k)
    z, p = gi_star(cells["weighted"].to_numpy(), w)
    cells["gi_z"], cells["gi_p"], cells["gi_bin"] = z, p, fdr_bins(z, p)
    cells["gi_sig"] = _bh(p, alpha)
    h3_area = pd.DataFrame({"h3": cells_of(this["lon"], this["lat"], resolution), "area": this["area"].to_numpy()})
    n_area = h3_area.dropna().groupby(["h3", "area"]).size().rename("n").reset_index()
    main_area = n_area.sort_values(["h3", "n", "area"], ascending=[True, False, True]).drop_duplicates("h3")
    cells["area"] = cells["h3"].map(main_area.set_index("h3")["area"])
    cells_g = gpd.GeoDataFrame(cells, geometry=cell_polygons(cells["h3"]), crs="EPSG:4326")
    params = load_params(profile.cluster_params_path)
    codes = dict(zip(profile.categories.table["minor"], profile.categories.table["kind"].map({"事件": "E", "部件": "C"})
                     + profile.categories.table["code"]))
    clusters, links = cluster_cases(this, metric_crs=profile.metric_crs, params=params, eps_m=eps_m,
                                    min_samples=min_samples, method=method, class_codes=codes)
    pts = this.set_index("case_id")[["lon", "lat"]]
    links_g = gpd.GeoDataFrame(links, geometry=gpd.points_from_xy(pts.loc[links["case_id"], "lon"],
                                                                  pts.loc[links["case_id"], "lat"]), crs="EPSG:4326")
    months = sorted(m for m in geo["registered_at"].dt.strftime("%Y-%m").unique() if m <= month)
    if len(months) >= 2:
        hist = geo[geo["registered_at"].dt.strftime("%Y-%m").isin(months)]
        hb = bin_cases(hist, resolution=resolution, by=("month",)).rename(columns={"weighted": "value"})
        em = emerging_hotspots(hb, study, months, k=k, alpha=alpha)
    else:
        em = pd.DataFrame({"h3": study, "category": "无模式", "category_en": "no pattern", "trend_z": np.nan,
                           "trend_p": np.nan, "n_hot": 0, "n_cold": 0, "final_bin": 0})
    em_g = gpd.GeoDataFrame(em, geometry=cell_polygons(em["h3"]), crs="EPSG:4326")
    return {"cells": cells_g, "clusters": clusters, "case_clusters": links_g, "emerging": em_g,
            "geocode": report, "months": months}


def write_hotspots(store: str, month: str, out: str, *, profile=None, **opts) -> dict:
    """Compute and write the hotspot layers of one month (GeoPackage + CSV summaries); return the layers.

    Emerging hotspots see the store's months up to ``month`` (at most :data:`MAX_MONTHS`).
    """
    profile = profile or default_profile()
    months = [m for m in store_months(store) if m <= month]
    if month not in months:
        raise InputError(f"{store}: no cases for {month}; the store has {', '.join(store_months(store)) or 'no months'}")
    cases = pd.DataFrame(read_store(store, months[-MAX_MONTHS:]).drop(columns="geometry"))
    layers = hotspot_layers(cases, month=month, boundaries=load_boundaries(profile), profile=profile, **opts)
    base = Path(out) / "hotspots"
    gpkg = {k: layers[k] for k in ("cells", "clusters", "case_clusters", "emerging")}
    write_layers(gpkg, base / f"{month}.gpkg")
    cells = layers["cells"]
    write_csv(pd.DataFrame(cells.drop(columns="geometry")), base / f"{month}-cells.csv")
    write_csv(pd.DataFrame(layers["clusters"].drop(columns="geometry")), base / f"{month}-clusters.csv")
    write_csv(pd.DataFrame(layers["emerging"].drop(columns="geometry")), base / f"{month}-emerging.csv")
    return layers
