"""Interactive maps (folium): one per management area and month, the city map, and the index page.

Coordinates stay WGS-84 inside gridgeo and are shifted only here, at drawing time, for a basemap
that needs it: Amap tiles are GCJ-02, so on an Amap map every layer is moved WGS-84 → GCJ-02 (about
360 m in Kunming); OSM and Tianditu take WGS-84 as it is. All text that reaches a popup or tooltip
is masked for personal data and HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins

from gridgeo.crs import wgs84_to_gcj02
from gridgeo.errors import InputError

__all__ = ["BASEMAPS", "MAIN_CLASSES", "area_map", "mask_personal", "write_maps"]

MAIN_CLASSES = ("非法小广告", "共享单车", "占道经营", "暴露垃圾", "擅自架设管线杆线设施")


@dataclass(frozen=True)
class Basemap:
    name: str
    tiles: str | None
    attribution: str
    crs: str  # coordinates the tiles are drawn in: wgs84 or gcj02
    subdomains: str = "abc"


BASEMAPS = {
    "amap": Basemap("高德地图", "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                    '&copy; <a href="https://www.amap.com/">高德地图</a> AutoNavi', "gcj02", "1234"),
    "osm": Basemap("OpenStreetMap", "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                   '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors', "wgs84"),
    "tianditu": Basemap("天地图", "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
                        '&copy; <a href="https://www.tianditu.gov.cn/">天地图</a> 国家地理信息公共服务平台', "wgs84", "01234567"),
    "none": Basemap("无底图", None, "", "wgs84"),
}

CDN = {
    "leaflet.js": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.js",
    "leaflet.css": "https://cdn.jsdelivr.net/npm/leaflet@1.9.4/dist/leaflet.css",
    "leaflet.markercluster.js": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js",
    "MarkerCluster.css": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.css",
    "MarkerCluster.Default.css": "https://cdn.jsdelivr.net/npm/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css",
    "leaflet_heat.min.js": "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js",
}

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID = re.compile(r"(?<![\dXx])(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_CALLER = re.compile(r"(来电人|联系人|投诉人|反映人|姓名)([:：]?\s*)[\u4e00-\u9fff]{1,4}")


def mask_personal(text: object) -> str:
    """Mask phone numbers, ID-card numbers and caller names in free text (not yet HTML-escaped)."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or text is pd.NA:
        return ""
    t = str(text)
    t = _ID.sub(r"\1********\2", t)
    t = _PHONE.sub(r"\1****\2", t)
    return _CALLER.sub(r"\1\2**", t)


def _safe(text: object) -> str:
    return html.escape(mask_personal(text), quote=True)


def _shift_geoms(geoms: np.ndarray, crs: str) -> np.ndarray:
    if crs != "gcj02":
        return geoms

    def fn(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    return shapely.transform(geoms, fn)


def _shift_xy(lon: np.ndarray, lat: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    return wgs84_to_gcj02(lon, lat) if crs == "gcj02" else (np.asarray(lon), np.asarray(lat))


def _geojson(gdf: gpd.GeoDataFrame, crs: str, props: list[str], *, tolerance: float = 0.0) -> dict:
    """A GeoJSON dict with coordinates shifted for the basemap, simplified and rounded to 5 decimals (≈1 m)."""
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if tolerance:
        geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
    geoms = shapely.set_precision(_shift_geoms(geoms, crs), 1e-5)
    feats = []
    for g, (_, row) in zip(geoms, gdf[props].iterrows()):
        if g is None or g.is_empty:
            continue
        p = {k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
        feats.append({"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def _classes(values: np.ndarray, k: int = 5) -> np.ndarray:
    """Quantile class breaks of the positive values (at most k classes)."""
    v = values[values > 0]
    if not len(v):
        return np.array([0.0])
    return np.unique(np.quantile(v, np.linspace(0, 1, k + 1)[1:]))


RAMP = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
GI_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
GI_LABELS = {3: "热点 99%", 2: "热点 95%", 1: "热点 90%", -1: "冷点 90%", -2: "冷点 95%", -3: "冷点 99%"}
EMERGING_COLOURS = {"新增热点": "#ff0000", "连续热点": "#ff6347", "加剧热点": "#8b0000", "持续热点": "#cd5c5c",
                    "减弱热点": "#f4a460", "零星热点": "#ffa07a", "振荡热点": "#da70d6", "历史热点": "#bc8f8f",
                    "新增冷点": "#0000ff", "连续冷点": "#4169e1", "加剧冷点": "#00008b", "持续冷点": "#6495ed",
                    "减弱冷点": "#87ceeb", "零星冷点": "#add8e6", "振荡冷点": "#9370db", "历史冷点": "#b0c4de"}


def _legend(sections: list[tuple[str, list[tuple[str, str]]]]) -> folium.Element:
    rows = []
    for title, items in sections:
        if not items:
            continue
        rows.append(f"<div style='font-weight:bold;margin-top:4px'>{html.escape(title)}</div>")
        rows += [f"<div><span style='display:inline-block;width:12px;height:12px;background:{c};margin-right:4px;"
                 f"border:1px solid #555'></span>{html.escape(label)}</div>" for label, c in items]
    box = ("<div class='gridgeo-legend' style='position:fixed;bottom:24px;left:12px;z-index:9999;background:#fff;"
           "padding:6px 8px;border:1px solid #888;border-radius:4px;font-size:12px;max-height:45%;overflow:auto'>"
           + "".join(rows) + "</div>")
    return folium.Element(box)


def area_map(*, title: str, cells: gpd.GeoDataFrame, clusters: gpd.GeoDataFrame, emerging: gpd.GeoDataFrame,
             cases: pd.DataFrame, area_shape: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, grids: gpd.GeoDataFrame | None,
             basemap: str = "amap", tianditu_key: str | None = None, max_points: int = 5000) -> folium.Map:
    """The map of one area (or the city) and month: every layer of the hotspot stage plus the cases."""
    bm = BASEMAPS[basemap]
    if basemap == "tianditu" and not tianditu_key:
        raise InputError("--basemap tianditu needs a key: pass --tianditu-key KEY (天地图 requires one)")
    crs = bm.crs
    shape = area_shape.union_all()
    cx, cy = _shift_xy(np.array([shape.centroid.x]), np.array([shape.centroid.y]), crs)
    m = folium.Map(location=[float(cy[0]), float(cx[0])], zoom_start=12, tiles=None, control_scale=True)
    m.options["maxZoom"] = 19  # marker clusters need it, and with no tile layer Leaflet has none
    m.default_js = [("leaflet", CDN["leaflet.js"])]
    m.default_css = [("leaflet_css", CDN["leaflet.css"])]
    if bm.tiles:
        url = bm.tiles.replace("{key}", tianditu_key or "")
        folium.TileLayer(url, attr=bm.attribution, name=bm.name, subdomains=bm.subdomains, max_zoom=18).add_to(m)
    m.get_root().html.add_child(folium.Element(
        f"<div class='gridgeo-title' style='position:fixed;top:8px;left:56px;z-index:9999;background:#fff;padding:4px 10px;"
        f"border:1px solid #888;border-radius:4px;font-size:16px;font-weight:bold'>{html.escape(title)}</div>"))
    if not len(cases):
        m.get_root().html.add_child(folium.Element(
            "<div class='gridgeo-empty' style='position:fixed;top:45%;left:35%;z-index:9999;background:#fff;padding:12px;"
            "border:1px solid #888;font-size:18px'>本月没有案件</div>"))

    # H3 choropleth of weighted counts (quantile classes)
    c = cells[cells["weighted"] > 0]
    breaks = _classes(c["weighted"].to_numpy())
    c = c.assign(cls=np.searchsorted(breaks, c["weighted"].to_numpy(), side="left").clip(0, len(RAMP) - 1))
    fg = folium.FeatureGroup(name="H3 网格（基本案件数）", show=True)
    if len(c):
        folium.GeoJson(_geojson(c, crs, ["h3", "count", "weighted", "cls"]),
                       style_function=lambda f: {"fillColor": RAMP[f["properties"]["cls"]], "color": "#999",
                                                 "weight": 0.3, "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(["count", "weighted"], aliases=["案件数", "基本案件数"])).add_to(fg)
    fg.add_to(m)
    lows = np.r_[0, breaks[:-1]]
    choropleth_legend = [(f"{lo:.0f}–{hi:.0f}", RAMP[i]) for i, (lo, hi) in enumerate(zip(lows, breaks)) if len(c)]

    # Gi* bins
    g = cells[cells["gi_bin"] != 0]
    fg = folium.FeatureGroup(name="Gi* 热点/冷点（FDR）", show=True)
    if len(g):
        folium.GeoJson(_geojson(g, crs, ["h3", "gi_bin", "gi_z"]),
                       style_function=lambda f: {"fillColor": GI_COLOURS[f["properties"]["gi_bin"]], "color": "#333",
                                                 "weight": 0.6, "fillOpacity": 0.7},
                       tooltip=folium.GeoJsonTooltip(["gi_bin", "gi_z"], aliases=["置信度级别", "z 值"])).add_to(fg)
    fg.add_to(m)

    # DBSCAN clusters per main class: one GeoJSON per class, popup fields pre-escaped
    for cls in [*MAIN_CLASSES, "其他"]:
        sub = clusters[clusters["class"] == cls] if cls != "其他" else clusters[~clusters["class"].isin(MAIN_CLASSES)]
        fg = folium.FeatureGroup(name=f"聚类·{cls}", show=cls in MAIN_CLASSES[:2])
        if len(sub):
            props = pd.DataFrame({
                "class": sub["class"].map(_safe), "cluster_id": sub["cluster_id"].map(_safe),
                "count": sub["count"].astype(int), "street": sub["street"].map(_safe),
                "grid_code": sub["grid_code"].map(_safe), "first": sub["first_registered"].map(_safe),
                "last": sub["last_registered"].map(_safe),
                "closure": (100 * sub["closed_share"].astype(float)).round(1).astype(str) + "%"})
            g2 = gpd.GeoDataFrame(props, geometry=sub.geometry.values, crs="EPSG:4326")
            fields = ["class", "cluster_id", "count", "street", "grid_code", "first", "last", "closure"]
            folium.GeoJson(_geojson(g2, crs, fields, tolerance=0.00002),
                           style_function=lambda f: {"color": "#6a00a8", "weight": 2, "fillOpacity": 0.15},
                           popup=folium.GeoJsonPopup(fields, aliases=["类别", "聚类编号", "案件数", "街道", "单元网格",
                                                                      "首次", "最近", "结案率"], labels=True)).add_to(fg)
        fg.add_to(m)

    # emerging hotspot categories
    e = emerging[emerging["category"] != "无模式"]
    fg = folium.FeatureGroup(name="新兴热点分析", show=False)
    if len(e):
        folium.GeoJson(_geojson(e, crs, ["h3", "category"]),
                       style_function=lambda f: {"fillColor": EMERGING_COLOURS.get(f["properties"]["category"], "#999"),
                                                 "color": "#555", "weight": 0.5, "fillOpacity": 0.6},
                       tooltip=folium.GeoJsonTooltip(["category"], aliases=["类别"])).add_to(fg)
    fg.add_to(m)

    # heat map and case points (distinct locations, so a month stays light)
    pts = cases[cases["lon"].notna() & cases["lat"].notna()]
    if len(pts):
        site = pts.groupby([pts["lon"].round(4), pts["lat"].round(4)]).size().rename("n").reset_index()
        hx, hy = _shift_xy(site["lon"].to_numpy(), site["lat"].to_numpy(), crs)
        heat = np.column_stack([np.round(hy, 4), np.round(hx, 4), site["n"].to_numpy()]).tolist()
        hm = plugins.HeatMap(heat, name="热力图", show=False, radius=12, blur=15)
        hm.default_js = [("leaflet-heat.js", CDN["leaflet_heat.min.js"])]
        hm.add_to(m)
    lookup: list[str] = []
    budget = _point_budget(pts, max_points)
    for cls in [*MAIN_CLASSES, "其他"]:
        sub = pts[pts["minor"] == cls] if cls != "其他" else pts[~pts["minor"].isin(MAIN_CLASSES)]
        fg = folium.FeatureGroup(name=f"案件点·{cls}", show=False)
        if len(sub):
            rows = _point_rows(sub, crs, budget[cls], lookup)
            mc = plugins.FastMarkerCluster(rows, callback=_POINT_JS, name=f"案件点·{cls}")
            mc.default_js = [("markerclusterjs", CDN["leaflet.markercluster.js"])]
            mc.default_css = [("markerclustercss", CDN["MarkerCluster.css"]),
                              ("markerclusterdefaultcss", CDN["MarkerCluster.Default.css"])]
            mc.add_to(fg)
        fg.add_to(m)
    # the strings the point popups share (classes, sources, statuses, communities), escaped, defined once
    m.get_root().header.add_child(folium.Element(
        "<script>var GRIDGEO_TEXT = " + json.dumps(lookup, ensure_ascii=False) + ";</script>"))

    # boundaries
    fg = folium.FeatureGroup(name="区界", show=True)
    folium.GeoJson(_geojson(area_shape, crs, ["name"], tolerance=0.0002),
                   style_function=lambda f: {"color": "#000", "weight": 2.5, "fill": False}).add_to(fg)
    fg.add_to(m)
    fg = folium.FeatureGroup(name="街道界", show=True)
    folium.GeoJson(_geojson(streets, crs, ["name"], tolerance=0.0001),
                   style_function=lambda f: {"color": "#444", "weight": 1, "dashArray": "4 3", "fill": False},
                   tooltip=folium.GeoJsonTooltip(["name"], aliases=["街道"])).add_to(fg)
    fg.add_to(m)
    if grids is not None and len(grids):
        fg = folium.FeatureGroup(name="单元网格（放大查看）", show=False)
        folium.GeoJson(_geojson(grids, crs, ["code"]),
                       style_function=lambda f: {"color": "#2c7fb8", "weight": 0.4, "fill": False},
                       tooltip=folium.GeoJsonTooltip(["code"], aliases=["网格编码"])).add_to(fg)
        fg.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    x0, y0, x1, y1 = shapely.bounds(_shift_geoms(np.array([shape], dtype=object), crs)[0])
    m.fit_bounds([[y0, x0], [y1, x1]])
    m.get_root().html.add_child(_legend([
        ("H3 网格（基本案件数，分位数分级）", choropleth_legend),
        ("Gi* 热点/冷点（FDR 校正）", [(GI_LABELS[b], GI_COLOURS[b]) for b in (3, 2, 1, -1, -2, -3) if (cells["gi_bin"] == b).any()]),
        ("新兴热点分析", [(k, v) for k, v in EMERGING_COLOURS.items() if (emerging["category"] == k).any()]),
        ("聚类", [("DBSCAN 聚类范围", "#6a00a8")]),
    ]))
    return m


_POINT_JS = """function (row) {
    var t = GRIDGEO_TEXT;
    var m = L.circleMarker(new L.LatLng(row[0], row[1]), {radius: 5, color: '#c0392b', weight: 1, fillOpacity: 0.7});
    m.bindPopup('<b>' + row[2] + ' 件</b><br>' + row[3] + ' · ' + t[row[4]] + ' · ' + t[row[5]] + '<br>'
                + row[6] + ' · ' + t[row[7]] + '<br>' + t[row[8]] + '<br>' + row[9]);
    return m;
}"""


def _point_budget(pts: pd.DataFrame, total: int) -> dict[str, int]:
    """Markers per class layer: ``total`` shared in proportion to the classes' distinct locations."""
    cls = pts["minor"].where(pts["minor"].isin(MAIN_CLASSES), "其他")
    n = pts.assign(c=cls).drop_duplicates(["c", "lon", "lat"])["c"].value_counts()
    share = {c: int(np.ceil(total * n.get(c, 0) / max(1, n.sum()))) for c in [*MAIN_CLASSES, "其他"]}
    return share


def _point_rows(sub: pd.DataFrame, crs: str, max_points: int, lookup: list[str]) -> list[list[Any]]:
    """One marker per distinct location, the busiest first, with its latest case.

    A row is [lat, lon, cases here, case id, class, source, registered, status, community, address
    (first 30 characters)]; the repeated texts are indices into ``lookup`` (extended here). Every text
    is masked, then HTML-escaped.
    """
    s = sub.assign(_x=sub["lon"].round(5), _y=sub["lat"].round(5))
    n = s.groupby(["_x", "_y"]).size().rename("n")
    latest = s.sort_values("registered_at", ascending=False, kind="stable").drop_duplicates(["_x", "_y"])
    latest = latest.join(n, on=["_x", "_y"]).sort_values(["n", "_x", "_y"], ascending=[False, True, True]).head(max_points)
    index = {t: i for i, t in enumerate(lookup)}

    def ref(col: str) -> list[int]:
        vals = latest[col].map(_safe) if col in latest else pd.Series("", index=latest.index)
        out = []
        for v in vals:
            if v not in index:
                index[v] = len(lookup)
                lookup.append(v)
            out.append(index[v])
        return out

    where = "community" if "community" in latest and latest["community"].notna().any() else "street"
    cols = [ref("minor"), ref("source"), ref("status"), ref(where)]
    when = latest["registered_at"].dt.strftime("%m-%d %H:%M").fillna("")
    ids = latest["case_id"].map(_safe)
    addr = (latest["address"].map(lambda v: html.escape(mask_personal(v)[:30])) if "address" in latest
            else pd.Series("", index=latest.index))
    x, y = _shift_xy(latest["_x"].to_numpy(), latest["_y"].to_numpy(), crs)
    return [[round(float(b), 5), round(float(a), 5), int(k), i, c1, c2, w, c3, c4, ad]
            for a, b, k, i, c1, c2, w, c3, c4, ad in zip(x, y, latest["n"], ids, *cols[:2], when, *cols[2:], addr)]


def localise_assets(m: folium.Map, prefix: str) -> None:
    """Point every script and stylesheet of the map at ``prefix`` + file name (for --offline-assets)."""
    by_url = {url: name for name, url in CDN.items()}

    def walk(el):
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                setattr(el, attr, [(n, prefix + by_url[u]) if u in by_url else (n, u) for n, u in links])
        for child in getattr(el, "_children", {}).values():
            walk(child)

    walk(m)


def copy_assets(dest: Path) -> None:
    """Copy the vendored Leaflet files (and folium's heat-map plugin) into ``dest``."""
    from gridgeo.profile import data_root

    src = data_root() / "maps" / "assets"
    shutil.copytree(src, dest, dirs_exist_ok=True)
    heat = Path(folium.__file__).parent / "templates" / "leaflet_heat.min.js"
    shutil.copy(heat, dest / "leaflet_heat.min.js")


def write_maps(store: str, month: str, out: str, *, profile=None, area: str | None = None, basemap: str = "amap",
               tianditu_key: str | None = None, offline_assets: bool = False) -> list[dict[str, Any]]:
    """Write ``OUT/maps/<month>/<area>.html`` for every area (or one) and ``city.html``; update the index.

    The hotspot layers are read from ``OUT/hotspots/<month>.gpkg`` or ``STORE/hotspots``; when neither
    exists they are computed first (and written) by the hotspot stage.
    """
    import pyogrio

    from gridgeo.boundaries import load_boundaries
    from gridgeo.hotspots import write_hotspots
    from gridgeo.io import atomic_path, read_month, store_months
    from gridgeo.profile import default_profile

    profile = profile or default_profile()
    if basemap not in BASEMAPS:
        raise InputError(f"unknown basemap {basemap!r}; choose from {', '.join(BASEMAPS)}")
    if area is not None and area not in profile.areas:
        raise InputError(f"unknown area {area!r}; the areas of {profile.name} are {', '.join(profile.areas)}")
    if not Path(store).is_dir():
        raise InputError(f"{store}: no such store folder; create one with `gridgeo ingest` or `gridgeo demo`")
    gpkg = next((p for p in (Path(out) / "hotspots" / f"{month}.gpkg", Path(store) / "hotspots" / f"{month}.gpkg")
                 if p.exists()), None)
    if gpkg is None and month in store_months(store):  # compute the missing hotspot layers on the fly
        write_hotspots(store, month, out, profile=profile)
        gpkg = Path(out) / "hotspots" / f"{month}.gpkg"
    if gpkg is None:  # a month without cases: empty layers, and the maps say so
        empty = gpd.GeoDataFrame({"h3": [], "weighted": [], "count": [], "gi_bin": [], "gi_z": [], "area": [],
                                  "class": [], "category": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        layers = {"cells": empty, "clusters": empty, "emerging": empty}
    else:
        missing = {"cells", "clusters", "emerging"} - set(pyogrio.list_layers(gpkg)[:, 0])
        if missing:
            raise InputError(f"{gpkg}: lacks the hotspot layer(s) {sorted(missing)}; rerun gridgeo hotspots")
        layers = {n: gpd.read_file(gpkg, layer=n) for n in ("cells", "clusters", "emerging")}
    b = load_boundaries(profile)
    cases = pd.DataFrame(read_month(store, month).drop(columns="geometry"))
    base = Path(out) / "maps" / month
    base.mkdir(parents=True, exist_ok=True)
    if offline_assets:
        copy_assets(Path(out) / "maps" / "assets")
    entries = []
    targets = [area] if area else [*profile.areas, None]
    for a in targets:
        name = a or "city"
        sel = cases if a is None else cases[cases["area"] == a]
        shape = b.areas if a is None else b.areas[b.areas["name"] == a]
        streets = b.streets if a is None else b.streets[b.streets["area"] == a]
        grids = None if a is None else b.grids[b.grids["area"] == a]
        cells = layers["cells"] if a is None else layers["cells"][layers["cells"]["area"] == a]
        clusters = layers["clusters"] if a is None else layers["clusters"][layers["clusters"]["area"] == a]
        em = layers["emerging"]
        em = em if a is None else em[em["h3"].isin(set(cells["h3"]))]
        title = f"{a or profile.name} {month} 网格案件热点图（{len(sel):,} 件）"
        m = area_map(title=title, cells=cells, clusters=clusters, emerging=em, cases=sel, area_shape=shape,
                     streets=streets, grids=grids, basemap=basemap, tianditu_key=tianditu_key,
                     max_points=3000 if a is None else 4000)
        if offline_assets:
            localise_assets(m, "../assets/")
        with atomic_path(base / f"{name}.html") as tmp:
            m.save(str(tmp))
        closed = sel["closed_at"].notna().mean() if len(sel) else None
        top = sel["minor"].value_counts().head(3).index.tolist() if len(sel) else []
        entries.append({"month": month, "area": a or "全市", "file": f"{month}/{name}.html", "cases": int(len(sel)),
                        "closure_rate": None if closed is None else float(closed), "top_classes": top,
                        "hot_cells": int((cells["gi_bin"] > 0).sum())})
    _update_index(Path(out) / "maps", entries)
    return entries


def _update_index(folder: Path, entries: list[dict[str, Any]]) -> None:
    """Merge ``entries`` into ``maps/index.json`` and rewrite ``maps/index.html`` from it."""
    from gridgeo.io import atomic_path

    store = folder / "index.json"
    old = json.loads(store.read_text(encoding="utf-8")) if store.exists() else []
    keep = {(e["month"], e["area"]): e for e in old}
    keep.update({(e["month"], e["area"]): e for e in entries})
    rows = sorted(keep.values(), key=lambda e: (e["month"], e["area"] != "全市", e["area"]))
    with atomic_path(store) as tmp:
        tmp.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    def rate(e):
        return "—" if e["closure_rate"] is None else f"{100 * e['closure_rate']:.2f}%"

    body = "".join(
        f"<tr><td>{html.escape(e['month'])}</td><td><a href='{html.escape(e['file'])}'>{html.escape(e['area'])}</a></td>"
        f"<td>{e['cases']:,}</td><td>{rate(e)}</td>"
        f"<td>{html.escape('、'.join(e['top_classes']))}</td><td>{e['hot_cells']}</td></tr>" for e in rows)
    page = ("<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'><title>网格案件热点图索引</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #999;"
            "padding:3px 8px}th{background:#eef2f7}</style></head><body><h1>网格案件热点图</h1><table><thead><tr><th>月份</th>"
            "<th>区属</th><th>案件数</th><th>结案率</th><th>主要问题</th><th>显著热点网格</th></tr></thead><tbody>"
            + body + "</tbody></table></body></html>")
    with atomic_path(folder / "index.html") as tmp:
        tmp.write_text(page, encoding="utf-8")
