"""H3 binning: cases → H3 cells per month, area and class, with counts and 基本案件数 (weights)."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import shapely

from gridgeo._points import distinct

__all__ = ["bin_cases", "cell_polygons", "cells_of"]

RESOLUTIONS = range(7, 11)


def _check(resolution: int) -> None:
    if resolution not in RESOLUTIONS:
        raise ValueError(f"H3 resolution must be 7 to 10, got {resolution}")


def cells_of(lon: np.ndarray, lat: np.ndarray, resolution: int = 9) -> np.ndarray:
    """H3 cell ids (strings) of WGS-84 points; None where a coordinate is missing.

    Repeated locations (the same shop front) are looked up once. ``latlng_to_cell`` takes latitude first.
    """
    _check(resolution)
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.full(len(lon), None, dtype=object)
    if ok.any():
        uniq, inv, _ = distinct(lon[ok], lat[ok])
        ids = np.array([h3.latlng_to_cell(float(a), float(o), resolution) for o, a in uniq], dtype=object)
        out[ok] = ids[inv]
    return out


def bin_cases(cases: pd.DataFrame, *, resolution: int = 9, by: tuple[str, ...] = ("month", "area", "minor")) -> pd.DataFrame:
    """Counts and weighted counts per H3 cell and the ``by`` columns, sorted (cases without a point are skipped).

    ``month`` is derived from ``registered_at`` when asked for. Columns: ``h3``, the ``by`` columns,
    ``count``, ``weighted``.
    """
    d = pd.DataFrame({"h3": cells_of(cases["lon"], cases["lat"], resolution)}, index=cases.index)
    for c in by:
        d[c] = cases["registered_at"].dt.strftime("%Y-%m") if c == "month" else cases[c]
    d["weight"] = cases["weight"].astype("float64") if "weight" in cases else 1.0
    d = d[d["h3"].notna()]
    keys = [*by, "h3"]
    g = d.groupby(keys, dropna=False, sort=True, observed=True)["weight"].agg(count="size", weighted="sum").reset_index()
    g["count"] = g["count"].astype("int64")
    return g[["h3", *by, "count", "weighted"]].sort_values([*by, "h3"], kind="stable").reset_index(drop=True)


def cell_polygons(ids) -> list[shapely.Polygon]:
    """Shapely polygons (lon/lat) of H3 cells."""
    out = []
    for c in ids:
        ring = [(lng, lat) for lat, lng in h3.cell_to_boundary(c)]
        out.append(shapely.Polygon(ring))
    return out
