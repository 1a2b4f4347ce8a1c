"""Geocoding: cases → unit grid, community, street, district and management area (points, snapping, addresses)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridgeo._points import distinct
from gridgeo.boundaries import Boundaries

__all__ = ["GeocodeReport", "Gazetteer", "geocode"]

log = logging.getLogger(__name__)

#: a point this close (metres) to a street polygon but in none is snapped to the nearest street
SNAP_TOLERANCE_M = 50.0
_STREET_SUFFIXES = ("街道办事处", "街道办", "街道", "办事处")


@dataclass
class GeocodeReport:
    """Counts per geocode method, and the cases whose point contradicts the platform's own area/street."""

    methods: dict[str, int] = field(default_factory=dict)
    area_disagrees: int = 0
    street_disagrees: int = 0


@dataclass(frozen=True)
class Gazetteer:
    """Names of the profile's areas, districts, streets and communities with their variants → polygons' codes."""

    entries: pd.DataFrame  # name, level (0 area/district, 1 street, 2 community), area, district, street, community

    @classmethod
    def build(cls, b: Boundaries, area_aliases: dict[str, str]) -> Gazetteer:
        rows = []
        streets = b.streets
        for _, s in streets.iterrows():
            name = str(s["name"])
            stem = name
            for suf in _STREET_SUFFIXES:
                stem = stem.removesuffix(suf)
            variants = {name, stem + "街道办事处", stem + "办事处", stem + "街道办"} if stem != name else {name}
            if len(stem) >= 2 and stem != name:
                variants.add(stem)
            for v in variants:
                rows.append({"name": v, "level": 1, "area": s["area"], "district": s["district"], "street": name,
                             "community": None})
        by_code = streets.set_index("code")
        for _, c in b.communities.iterrows():
            s = by_code.loc[c["parent_code"]]
            rows.append({"name": str(c["name"]), "level": 2, "area": s["area"], "district": s["district"],
                         "street": s["name"], "community": str(c["name"])})
        for _, a in b.areas.iterrows():
            rows.append({"name": str(a["name"]), "level": 0, "area": a["name"], "district": None, "street": None,
                         "community": None})
        for alias, area in area_aliases.items():
            rows.append({"name": alias, "level": 0, "area": area, "district": None, "street": None, "community": None})
        for _, d in b.districts.iterrows():  # a district name alone does not say which zone: area only if unique
            rows.append({"name": str(d["name"]), "level": 0, "area": d["name"], "district": d["name"], "street": None,
                         "community": None})
        e = pd.DataFrame(rows).drop_duplicates("name")
        e = e.assign(length=e["name"].str.len()).sort_values(["level", "length"], ascending=[False, False], kind="stable")
        return cls(e.drop(columns="length").reset_index(drop=True))

    def resolve(self, text: pd.Series) -> pd.DataFrame:
        """For each address, the smallest unit its text names: columns area, district, street, community."""
        out = pd.DataFrame(index=text.index, columns=["area", "district", "street", "community"], dtype="object")
        t = text.fillna("").astype(str)
        open_ = t != ""
        for _, e in self.entries.iterrows():
            if not open_.any():
                break
            hit = open_ & t.str.contains(re.escape(e["name"]), regex=True)
            if hit.any():
                for c in ("area", "district", "street", "community"):
                    out.loc[hit, c] = e[c]
                open_ &= ~hit
        return out


def _locate(points: np.ndarray, polys: np.ndarray) -> np.ndarray:
    """Index of the polygon containing each point (first hit), -1 where none (vectorised STRtree)."""
    tree = shapely.STRtree(polys)
    pi, ti = tree.query(points, predicate="intersects")
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((ti, pi))
    pi, ti = pi[order], ti[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.array([], dtype=bool)
    out[pi[first]] = ti[first]
    return out


def geocode(cases: pd.DataFrame, b: Boundaries, *, area_aliases: dict[str, str] | None = None,
            snap_tolerance_m: float = SNAP_TOLERANCE_M) -> tuple[pd.DataFrame, GeocodeReport]:
    """Fill area, district, street, community and grid_code of every case; set geocode_method.

    - ``point``: the point lies in a unit-grid cell (all five filled) or in a street outside the grid
      (area, district and street filled);
    - ``snapped``: the point lies in no street but within ``snap_tolerance_m`` metres of one, which is taken;
    - ``address``: no usable point; the address names an area, street or community of the gazetteer
      (the smallest unit named is taken, and the point stays null);
    - ``none``: neither.
    Values the platform gave (area, street, …) are kept; where the point says otherwise the case is
    counted in the report's disagreements. The input is not modified.
    """
    out = cases.copy()
    rep = GeocodeReport()
    n = len(out)
    method = np.full(n, "none", dtype=object)
    fill = {c: np.full(n, None, dtype=object) for c in ("area", "district", "street", "community", "grid_code")}
    lon = out["lon"].to_numpy(dtype="float64") if "lon" in out else np.full(n, np.nan)
    lat = out["lat"].to_numpy(dtype="float64") if "lat" in out else np.full(n, np.nan)
    located = np.isfinite(lon) & np.isfinite(lat)
    # point-in-polygon once per distinct location (cases repeat at the same shop fronts)
    uniq, back, _ = distinct(lon[located], lat[located])
    case_rows = np.flatnonzero(located)
    idx = np.arange(len(uniq))
    u_method = np.full(len(uniq), "none", dtype=object)
    u_fill = {c: np.full(len(uniq), None, dtype=object) for c in fill}
    if len(idx):
        pts = shapely.points(uniq[:, 0], uniq[:, 1])
        grids = b.grids
        gi = _locate(pts, np.asarray(grids.geometry.values, dtype=object))
        streets = b.streets.reset_index(drop=True)
        si = _locate(pts, np.asarray(streets.geometry.values, dtype=object))
        g_ok = gi >= 0
        s_of_grid = streets.set_index("code").index.get_indexer(grids["street_code"].to_numpy()[np.maximum(gi, 0)])
        si = np.where(g_ok, s_of_grid, si)
        miss = si < 0
        if miss.any():  # snap points just outside every street, in metres
            mpts = gpd.GeoSeries(pts[miss], crs="EPSG:4326").to_crs(b.metric_crs).values
            mstreets = streets.to_crs(b.metric_crs).geometry.values
            tree = shapely.STRtree(np.asarray(mstreets, dtype=object))
            qi, ti = tree.query_nearest(np.asarray(mpts, dtype=object), max_distance=snap_tolerance_m, all_matches=False)
            snapped = np.full(int(miss.sum()), -1)
            snapped[qi] = ti
            sub = np.flatnonzero(miss)
            si[sub] = snapped
            u_method[sub[snapped >= 0]] = "snapped"
        ok = si >= 0
        u_method[ok & (u_method != "snapped")] = "point"
        u_fill["street"][ok] = streets["name"].to_numpy()[si[ok]]
        u_fill["area"][ok] = streets["area"].to_numpy()[si[ok]]
        u_fill["district"][ok] = streets["district"].to_numpy()[si[ok]]
        u_fill["grid_code"][g_ok] = grids["code"].to_numpy()[gi[g_ok]]
        u_fill["community"][g_ok] = grids["community"].to_numpy()[gi[g_ok]]
        method[case_rows] = u_method[back]
        for c in fill:
            fill[c][case_rows] = u_fill[c][back]
    need_addr = (method == "none") & ~located
    if need_addr.any() and "address" in out:
        gz = Gazetteer.build(b, area_aliases or {})
        res = gz.resolve(out.loc[need_addr, "address"])
        found = res["area"].notna().to_numpy()
        rows = np.flatnonzero(need_addr)[found]
        for c in ("area", "district", "street", "community"):
            fill[c][rows] = res[c].to_numpy()[found]
        method[rows] = "address"
    for c, vals in fill.items():
        given = out[c] if c in out else pd.Series(pd.NA, index=out.index, dtype="string")
        computed = pd.Series(vals, index=out.index, dtype="string")
        if c in ("area", "street"):
            both = given.notna() & computed.notna()
            disagree = int((both & (given != computed)).sum())
            setattr(rep, f"{c}_disagrees", disagree)
        out[c] = given.fillna(computed).astype("string")
    out["geocode_method"] = pd.Series(method, index=out.index, dtype="string")
    rep.methods = {k: int(v) for k, v in pd.Series(method).value_counts().sort_index().items()}
    if rep.area_disagrees or rep.street_disagrees:
        log.warning("%d cases lie outside the area and %d outside the street the platform gave them",
                    rep.area_disagrees, rep.street_disagrees)
    return out, rep
