"""DBSCAN (and HDBSCAN) clusters of cases per class and month, with stable ids and cluster summaries.

Case locations repeat heavily (the same shop front, the same corner), so DBSCAN runs on the distinct
projected locations with their case counts as ``sample_weight``. That is exactly DBSCAN on every
case: duplicates are at distance 0, so a location's weighted neighbour count is the case count of
its eps-neighbourhood, and every case at a location gets that location's label. Memory and time
then grow with the distinct locations, not the cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gridgeo._points import distinct

__all__ = ["ClusterParams", "cluster_cases", "cluster_labels", "load_params"]

DEFAULT_EPS_M = 50.0
DEFAULT_MIN_SAMPLES = 10


@dataclass(frozen=True)
class ClusterParams:
    eps_m: float = DEFAULT_EPS_M
    min_samples: int = DEFAULT_MIN_SAMPLES


def load_params(path: Path | None) -> dict[str, ClusterParams]:
    """Per-class defaults from a CSV with columns minor, eps_m, min_samples (missing file: none)."""
    if path is None or not Path(path).is_file():
        return {}
    t = pd.read_csv(path, dtype={"minor": str})
    return {r.minor: ClusterParams(float(r.eps_m), int(r.min_samples)) for r in t.itertuples()}


@lru_cache(maxsize=4)
def _to_metric(crs: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def project(lon: np.ndarray, lat: np.ndarray, metric_crs: str) -> np.ndarray:
    x, y = _to_metric(metric_crs).transform(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
    return np.column_stack([x, y])


def cluster_labels(xy: np.ndarray, *, eps_m: float, min_samples: int, method: str = "dbscan",
                   weights: np.ndarray | None = None) -> np.ndarray:
    """Labels (−1 noise) of points in metres: DBSCAN on distinct locations weighted by their counts.

    ``weights`` are per-point case weights for DBSCAN's core test (default 1 per case). HDBSCAN
    (``method="hdbscan"``, ``min_cluster_size = min_samples``) runs on every point, as it has no
    sample weights.
    """
    n = len(xy)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "hdbscan":
        from sklearn.cluster import HDBSCAN

        if n < max(2, min_samples):
            return np.full(n, -1, dtype=np.int64)
        kw = {"copy": True} if "copy" in HDBSCAN().get_params() else {}
        return HDBSCAN(min_cluster_size=max(2, min_samples), min_samples=min_samples, **kw).fit_predict(xy).astype(np.int64)
    if method != "dbscan":
        raise ValueError(f"method must be dbscan or hdbscan, got {method!r}")
    from sklearn.cluster import DBSCAN

    uniq, inv, counts = distinct(xy[:, 0], xy[:, 1])
    w = counts.astype("float64") if weights is None else np.bincount(inv, weights=weights)
    lab = DBSCAN(eps=eps_m, min_samples=min_samples, algorithm="kd_tree").fit(uniq, sample_weight=w).labels_
    return lab[inv].astype(np.int64)


def _hull(points: np.ndarray) -> shapely.Geometry:
    """Concave hull (ratio 0.3) where it is a polygon, else the convex hull, buffered to a polygon."""
    mp = shapely.multipoints(np.unique(points, axis=0))
    hull = shapely.concave_hull(mp, ratio=0.3)
    if hull.geom_type != "Polygon" or hull.area < 0.6 * shapely.convex_hull(mp).area:
        hull = shapely.convex_hull(mp)
    return hull if hull.geom_type == "Polygon" else hull.buffer(5.0)


def cluster_cases(cases: pd.DataFrame, *, metric_crs: str, params: dict[str, ClusterParams] | None = None,
                  eps_m: float | None = None, min_samples: int | None = None, method: str = "dbscan",
                  classes: list[str] | None = None, class_codes: dict[str, str] | None = None,
                  ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Clusters per (month, minor class); returns (cluster table with hull polygons, case → cluster table).

    ``eps_m`` / ``min_samples`` override the per-class ``params`` (defaults 50 m, 10 cases). Cluster
    ids are stable: class code + the H3 res-9 cell of the cluster's weighted centroid (+ a sequence
    when two clusters share one), so a rerun, and a hotspot that persists into the next month, keep
    their id.
    """
    params = params or {}
    codes = class_codes or {}
    d = cases[cases["lon"].notna() & cases["lat"].notna() & cases["minor"].notna()]
    if classes:
        d = d[d["minor"].isin(classes)]
    month = d["registered_at"].dt.strftime("%Y-%m")
    xy_all = project(d["lon"].to_numpy(), d["lat"].to_numpy(), metric_crs) if len(d) else np.zeros((0, 2))
    inv = Transformer.from_crs(metric_crs, "EPSG:4326", always_xy=True)
    label = np.full(len(d), -1, dtype=np.int64)
    group = np.full(len(d), -1, dtype=np.int64)
    for g, ((m, minor), idx) in enumerate(d.groupby([month, d["minor"]], sort=True).indices.items()):
        p = params.get(minor, ClusterParams())
        e = eps_m if eps_m is not None else p.eps_m
        k = min_samples if min_samples is not None else p.min_samples
        label[idx] = cluster_labels(xy_all[idx], eps_m=e, min_samples=k, method=method)
        group[idx] = g
    cols = ["cluster_id", "month", "class", "count", "weighted", "centroid_lon", "centroid_lat", "area", "street",
            "grid_code", "first_registered", "last_registered", "closed_share", "on_time_share"]
    member = label >= 0
    if not member.any():
        empty = gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        return empty, pd.DataFrame(columns=["case_id", "class", "month", "cluster_id"])
    c = d[member]
    w = c["weight"].to_numpy(dtype="float64") if "weight" in c else np.ones(len(c))
    xy = xy_all[member]
    closed = c["closed_at"].notna() if "closed_at" in c else pd.Series(False, index=c.index)
    on_time = (closed & (c["closed_at"] <= c["deadline"])) if "deadline" in c else closed & False
    t = pd.DataFrame({"g": group[member], "l": label[member], "month": month[member].to_numpy(),
                      "class": c["minor"].to_numpy(), "w": w, "wx": xy[:, 0] * w, "wy": xy[:, 1] * w,
                      "reg": c["registered_at"].to_numpy(), "closed": closed.to_numpy(), "on_time": on_time.to_numpy()})
    key = ["g", "l"]
    agg = t.groupby(key, sort=True).agg(month=("month", "first"), cls=("class", "first"), count=("w", "size"),
                                       weighted=("w", "sum"), wx=("wx", "sum"), wy=("wy", "sum"),
                                       first_registered=("reg", "min"), last_registered=("reg", "max"),
                                       closed_share=("closed", "mean"), on_time_share=("on_time", "mean"))
    cx, cy = agg["wx"] / agg["weighted"], agg["wy"] / agg["weighted"]
    clon, clat = inv.transform(cx.to_numpy(), cy.to_numpy())
    agg["centroid_lon"], agg["centroid_lat"] = np.round(clon, 7), np.round(clat, 7)
    for col in ("area", "street", "grid_code"):
        if col in c:
            agg[col] = _group_mode(t[key].assign(v=c[col].to_numpy()), key)
        else:
            agg[col] = None
    cells = [h3.latlng_to_cell(float(a), float(o), 9) for a, o in zip(clat, clon)]
    base = [f"{codes.get(m, 'X')}-{cell}" for m, cell in zip(agg["cls"], cells)]
    seq = pd.Series(base).groupby([agg["month"].to_numpy(), base]).cumcount().to_numpy() + 1
    agg["cluster_id"] = [b if q == 1 else f"{b}-{q}" for b, q in zip(base, seq)]
    order = np.lexsort((t["l"].to_numpy(), t["g"].to_numpy()))
    bounds = np.r_[0, np.flatnonzero(np.diff(t["g"].to_numpy()[order] * (label.max() + 2) + t["l"].to_numpy()[order])) + 1,
                   len(t)]
    hulls = [_hull(xy[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
    agg = agg.rename(columns={"cls": "class"}).reset_index()
    clusters = gpd.GeoDataFrame(agg[cols], geometry=gpd.GeoSeries(hulls, crs=metric_crs)).to_crs("EPSG:4326")
    clusters = clusters.sort_values(["month", "class", "cluster_id"], kind="stable").reset_index(drop=True)
    ids = agg.set_index(key)["cluster_id"]
    link = pd.DataFrame({"case_id": c["case_id"].to_numpy(), "class": t["class"], "month": t["month"],
                         "cluster_id": ids.reindex(pd.MultiIndex.from_arrays([t["g"], t["l"]])).to_numpy()})
    link = link.sort_values(["month", "cluster_id", "case_id"], kind="stable").reset_index(drop=True)
    return clusters, link


def _group_mode(t: pd.DataFrame, key: list[str]) -> np.ndarray:
    """Most frequent non-null value per group (ties: the smallest value), aligned to the sorted groups."""
    v = t.dropna(subset=["v"])
    counts = v.groupby([*key, "v"], sort=True).size().rename("n").reset_index()
    counts = counts.sort_values([*key, "n", "v"], ascending=[True] * len(key) + [False, True], kind="stable")
    best = counts.drop_duplicates(key).set_index(key)["v"]
    groups = t[key].drop_duplicates().sort_values(key)
    return best.reindex(pd.MultiIndex.from_frame(groups)).to_numpy()
