"""Where demo cases happen: sites in unit-grid cells, planted hotspots per class and street."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

__all__ = ["SiteIndex", "place_cases"]

SITES_PER_CELL = 6


def _stable_rng(seed: int, *keys: str) -> np.random.Generator:
    return np.random.default_rng([seed, *(zlib.crc32(k.encode("utf-8")) for k in keys)])


@dataclass(frozen=True)
class SiteIndex:
    """The unit grid in the metric CRS with fixed case sites per cell and a steady activity weight."""

    grids: gpd.GeoDataFrame  # metric CRS, columns code, parent_code, community, street_code
    sites: np.ndarray  # (cells, SITES_PER_CELL, 2)
    activity: np.ndarray  # (cells,)
    tree: shapely.STRtree
    by_street: dict[str, np.ndarray]

    @classmethod
    def build(cls, grids: gpd.GeoDataFrame, metric_crs: str, seed: int) -> SiteIndex:
        g = grids.to_crs(metric_crs).reset_index(drop=True)
        rng = _stable_rng(seed, "sites")
        geom = np.asarray(g.geometry.values, dtype=object)
        x0, y0, x1, y1 = shapely.bounds(geom).T
        k = len(g)
        sx = x0[:, None] + rng.random((k, SITES_PER_CELL)) * (x1 - x0)[:, None]
        sy = y0[:, None] + rng.random((k, SITES_PER_CELL)) * (y1 - y0)[:, None]
        inside = shapely.contains_xy(np.repeat(geom, SITES_PER_CELL).reshape(k, SITES_PER_CELL), sx, sy)
        rp = shapely.get_coordinates(shapely.point_on_surface(geom))
        sx = np.where(inside, sx, rp[:, [0]])
        sy = np.where(inside, sy, rp[:, [1]])
        activity = rng.lognormal(0.0, 1.0, k)
        by_street = {s: np.asarray(ix) for s, ix in g.groupby("street_code").indices.items()}
        return cls(g, np.stack([sx, sy], axis=-1), activity, shapely.STRtree(geom), by_street)


def _hotspot_cfg(cfg: dict, minor: str, street: str) -> dict:
    base = dict(cfg.get("default", {}))
    c = cfg.get(minor)
    if c:
        base.update({k: v for k, v in c.items() if k != "streets"})
        base.update(c.get("streets", {}).get(street, {}))
    return base


def place_cases(df: pd.DataFrame, index: SiteIndex, *, hotspots: dict, boost: dict[str, float], seed: int,
                rng: np.random.Generator) -> pd.DataFrame:
    """Return ``x``, ``y`` (metric CRS), ``grid_code``, ``community_code`` and ``community`` for each case.

    Background cases pick a cell of their street by activity and one of its fixed sites; a planted
    share of each class's cases in a street come from that class's hotspots there (stable across
    months): Gaussian clouds of repeated sites round a few active cells.
    """
    n = len(df)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    cell = np.full(n, -1, dtype=int)
    hot = np.zeros(n, dtype=bool)
    street_codes = df["street_code"].to_numpy()
    minors = df["minor"].to_numpy()
    for code, rows in pd.Series(np.arange(n)).groupby(street_codes).indices.items():
        cells = index.by_street.get(code)
        if cells is None or not len(cells):
            continue
        w = index.activity[cells] / index.activity[cells].sum()
        street_name = df["street"].iloc[rows[0]]
        pick = rng.choice(cells, size=len(rows), p=w)
        site = rng.integers(0, SITES_PER_CELL, len(rows))
        x[rows], y[rows] = index.sites[pick, site, 0], index.sites[pick, site, 1]
        cell[rows] = pick
        for minor, mrows in pd.Series(rows).groupby(minors[rows]).indices.items():
            cfg = _hotspot_cfg(hotspots, minor, street_name)
            share = min(0.95, max(0.0, cfg.get("share", 0.0) + boost.get(street_name, 0.0)))
            members = rows[mrows]
            k_h = int(round(share * len(members)))
            if k_h < 3 or not cfg.get("per_street"):
                continue
            srng = _stable_rng(seed, "hotspot", code, minor)
            n_centres = min(int(cfg["per_street"]), len(cells))
            centres = srng.choice(cells, size=n_centres, replace=False, p=w)
            c_xy = shapely.get_coordinates(shapely.centroid(index.grids.geometry.values[centres]))
            chosen = rng.permutation(members)[:k_h]
            which = rng.integers(0, n_centres, k_h)
            sigma = float(cfg.get("sigma_m", 50.0))
            pool = max(4, k_h // (5 * n_centres))
            pool_xy = c_xy[:, None, :] + srng.normal(0.0, sigma, (n_centres, pool, 2))
            rank = 1.0 / (np.arange(pool) + 1.0)
            site_i = rng.choice(pool, size=k_h, p=rank / rank.sum())
            x[chosen] = pool_xy[which, site_i, 0]
            y[chosen] = pool_xy[which, site_i, 1]
            hot[chosen] = True
            cell[chosen] = -1
    # hotspot points: find their cell; outside their own street's cells they fall back to a site
    hidx = np.flatnonzero(hot)
    if len(hidx):
        pts = shapely.points(x[hidx], y[hidx])
        pi, ti = index.tree.query(pts, predicate="intersects")
        first = pd.Series(ti).groupby(pi).first()
        found = np.full(len(hidx), -1)
        found[first.index.to_numpy()] = first.to_numpy()
        own = index.grids["street_code"].to_numpy()
        ok = (found >= 0) & (own[np.maximum(found, 0)] == street_codes[hidx])
        cell[hidx[ok]] = found[ok]
        bad = hidx[~ok]
        for code, rows in pd.Series(bad).groupby(street_codes[bad]).indices.items():
            cells = index.by_street[code]
            pick = rng.choice(cells, size=len(rows))
            site = rng.integers(0, SITES_PER_CELL, len(rows))
            x[bad[rows]], y[bad[rows]] = index.sites[pick, site, 0], index.sites[pick, site, 1]
            cell[bad[rows]] = pick
    g = index.grids
    located = cell >= 0
    safe = np.maximum(cell, 0)
    out = pd.DataFrame({
        "x": np.round(x, 2), "y": np.round(y, 2),
        "grid_code": np.where(located, g["code"].to_numpy()[safe], None),
        "community_code": np.where(located, g["parent_code"].to_numpy()[safe], None),
        "community": np.where(located, g["community"].to_numpy()[safe], None),
    }, index=df.index)
    return out
