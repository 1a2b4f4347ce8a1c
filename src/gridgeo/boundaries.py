"""Boundary layers (districts, management areas, streets, communities, unit grids): loading and validation."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo.errors import BoundaryError
from gridgeo.profile import LAYERS, LayerSpec, Profile, default_profile

__all__ = ["Boundaries", "load_boundaries", "read_layer", "validate_layer"]

log = logging.getLogger(__name__)

#: a child may stick out of its parent by this share of its area (simplified source polygons)
CONTAIN_TOLERANCE = 0.01
#: two polygons of one layer may overlap by this many m² (edge noise of digitised borders)
OVERLAP_TOLERANCE_M2 = 100.0
_PARENT_OF = {"streets": "districts", "communities": "streets", "grids": "communities"}


@dataclass(frozen=True)
class Boundaries:
    """The five validated layers of a profile, in WGS-84, each with columns code, name, parent_code, geometry."""

    districts: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    metric_crs: str

    def layer(self, name: str) -> gpd.GeoDataFrame:
        return getattr(self, name)


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read one layer file (GeoJSON, GeoPackage, Shapefile or GeoParquet) and rename its columns.

    The result has ``code``, ``name`` (may be null), ``parent_code`` (may be null), ``area`` where the
    spec names one, the file's other columns, and ``geometry``. The CRS is kept as read (checked by
    :func:`validate_layer`).
    """
    path = Path(spec.path)
    try:
        if path.suffix.lower() == ".parquet":
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=spec.layer)
    except Exception as e:  # pyogrio/pyarrow raise many types for unreadable files
        raise BoundaryError(f"layer {spec.name}: cannot read {path} ({e}); give a GeoJSON, GeoPackage, "
                            "Shapefile or GeoParquet file") from None
    missing = [c for c in (spec.code, spec.label, spec.parent, spec.area) if c and c not in gdf.columns]
    if missing:
        raise BoundaryError(f"layer {spec.name}: {path} has no column(s) {missing}; its columns are "
                            f"{[c for c in gdf.columns if c != 'geometry']} — fix the column mapping in the profile")
    out = gdf.copy()
    ren = {spec.code: "code"}
    if spec.label:
        ren[spec.label] = "name"
    if spec.parent:
        ren[spec.parent] = "parent_code"
    if spec.area and spec.area != "area":
        ren[spec.area] = "area"
    extra = [c for c in ren.values() if c in out.columns and c not in ren]
    out = out.drop(columns=extra).rename(columns=ren)
    out["code"] = out["code"].astype("string")
    out["name"] = out["name"].astype("string") if "name" in out.columns else pd.Series(pd.NA, index=out.index, dtype="string")
    if "parent_code" in out.columns:
        out["parent_code"] = out["parent_code"].astype("string")
    else:
        out["parent_code"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def validate_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    metric_crs: str,
    parent: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Check one layer; return it repaired (valid polygons, WGS-84) and the list of problems found.

    Checks: a CRS is declared; geometries are polygons and valid (invalid ones are repaired with
    ``make_valid`` and a warning); codes are present and unique; no two polygons overlap by more
    than :data:`OVERLAP_TOLERANCE_M2`; and, given ``parent``, every feature names an existing parent
    code and lies inside that parent but for :data:`CONTAIN_TOLERANCE` of its area.
    """
    problems: list[str] = []
    if gdf.crs is None:
        return gdf, [f"layer {name}: no CRS declared; give the file a CRS (.prj, or a GeoJSON in WGS-84)"]
    g = gdf.to_crs("EPSG:4326") if gdf.crs.to_epsg() != 4326 else gdf.copy()
    geom = g.geometry.values
    empty = shapely.is_missing(geom) | shapely.is_empty(geom)
    if empty.any():
        problems.append(f"layer {name}: {int(empty.sum())} feature(s) without geometry (codes {list(g['code'][empty][:5])})")
    kinds = ~np.isin(shapely.get_type_id(geom), [3, 6]) & ~empty  # Polygon, MultiPolygon
    if kinds.any():
        problems.append(f"layer {name}: {int(kinds.sum())} feature(s) are not polygons")
    invalid = ~shapely.is_valid(geom) & ~empty
    if invalid.any():
        warnings.warn(f"layer {name}: repaired {int(invalid.sum())} invalid polygon(s) "
                      f"(codes {list(g['code'][invalid][:5])})", stacklevel=2)
        fixed = shapely.make_valid(geom[invalid])
        fixed = np.array([_polygonal(f) for f in fixed], dtype=object)
        geom = geom.copy()
        geom[invalid] = fixed
        g = g.set_geometry(gpd.GeoSeries(geom, index=g.index, crs="EPSG:4326"))
    codes = g["code"]
    if codes.isna().any():
        problems.append(f"layer {name}: {int(codes.isna().sum())} feature(s) without a code")
    dup = codes[codes.duplicated() & codes.notna()]
    if len(dup):
        problems.append(f"layer {name}: duplicate codes {sorted(set(dup))[:10]}")
    metric = g.to_crs(metric_crs)
    mg = metric.geometry.values
    ok = ~empty & ~kinds
    tree = shapely.STRtree(mg[ok])
    idx = np.flatnonzero(ok)
    pairs = tree.query(mg[ok], predicate="intersects")
    a, b = idx[pairs[0]], idx[pairs[1]]
    keep = a < b
    a, b = a[keep], b[keep]
    if len(a):
        inter = shapely.area(shapely.intersection(mg[a], mg[b]))
        bad = inter > OVERLAP_TOLERANCE_M2
        if bad.any():
            sample = [f"{codes.iloc[i]}/{codes.iloc[j]} ({v:.0f} m²)" for i, j, v in zip(a[bad][:5], b[bad][:5], inter[bad][:5])]
            problems.append(f"layer {name}: {int(bad.sum())} overlapping pair(s) beyond {OVERLAP_TOLERANCE_M2:.0f} m², e.g. {sample}")
    if parent is not None:
        pc = g["parent_code"]
        known = pc.isin(parent["code"])
        if (~known).any():
            problems.append(f"layer {name}: {int((~known).sum())} feature(s) name a parent code not in the parent layer "
                            f"(e.g. {list(pc[~known].astype(str)[:5])})")
        pm = parent.to_crs(metric_crs).set_index("code").geometry
        sel = np.flatnonzero(known.to_numpy() & ok)
        if len(sel):
            child = mg[sel]
            par = pm.loc[pc.iloc[sel].to_numpy()].values
            outside = shapely.area(shapely.difference(child, par))
            share = outside / np.maximum(shapely.area(child), 1e-9)
            bad = share > CONTAIN_TOLERANCE
            if bad.any():
                sample = [f"{codes.iloc[i]} ({s:.1%} outside)" for i, s in zip(sel[bad][:5], share[bad][:5])]
                problems.append(f"layer {name}: {int(bad.sum())} feature(s) lie outside their parent beyond "
                                f"{CONTAIN_TOLERANCE:.0%}, e.g. {sample}")
    return g, problems


def _polygonal(geom):
    """Keep the polygonal part of a repaired geometry (make_valid may add lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def load_boundaries(profile: Profile | None = None) -> Boundaries:
    """Read and validate every layer of ``profile`` (default Kunming); raise one error listing all problems."""
    profile = profile or default_profile()
    return _load(profile.path, tuple(sorted(profile.layers.items())), profile.metric_crs)


@lru_cache(maxsize=4)
def _load(_key: Path, layers: tuple[tuple[str, LayerSpec], ...], metric_crs: str) -> Boundaries:
    specs = dict(layers)
    problems: list[str] = []
    out: dict[str, gpd.GeoDataFrame] = {}
    for name in LAYERS:
        try:
            raw = read_layer(specs[name])
        except BoundaryError as e:
            problems.append(str(e))
            continue
        parent = out.get(_PARENT_OF.get(name, ""))
        fixed, found = validate_layer(raw, name=name, metric_crs=metric_crs, parent=parent)
        problems += found
        out[name] = fixed
    if problems:
        raise BoundaryError("boundary layers failed validation: " + " | ".join(problems))
    return Boundaries(**out, metric_crs=metric_crs)
