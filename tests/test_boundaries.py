"""The shipped Kunming layers, and validation of broken layers."""

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Polygon, box

from gridgeo.boundaries import load_boundaries, read_layer, validate_layer
from gridgeo.errors import BoundaryError
from gridgeo.profile import LayerSpec

REF_STREETS = 57
AREAS = {"五华区", "盘龙区", "官渡区", "西山区", "呈贡区", "高新区", "经开区", "度假区"}


@pytest.fixture(scope="module")
def kb(profile):
    return load_boundaries(profile)


def test_layers_and_codes(kb):
    assert len(kb.districts) == 5
    assert set(kb.districts["code"]) == {"530102", "530103", "530111", "530112", "530114"}
    assert set(kb.areas["name"]) == AREAS
    s = kb.streets
    assert len(s) == REF_STREETS and s["code"].str.fullmatch(r"\d{12}").all()
    assert set(s["geometry_source"]) == {"voronoi-of-amap-centre", "synthetic"}
    assert (s["geometry_source"] == "voronoi-of-amap-centre").sum() == 42
    # zone-managed streets and the zone units belong to their zone
    area_of = dict(zip(s["name"], s["area"]))
    assert area_of["阿拉街道"] == area_of["洛羊街道"] == area_of["昆明经济技术开发区"] == "经开区"
    assert area_of["马金铺街道"] == area_of["昆明国家高新技术产业开发区"] == "高新区"
    assert area_of["大渔街道"] == area_of["昆明滇池国家旅游度假区"] == "度假区"
    g = kb.grids
    assert g["code"].str.fullmatch(r"\d{15}").all() and g["code"].is_unique
    assert (g["code"].str[:12] == g["parent_code"]).all()
    assert (g["parent_code"].str[:9] == g["street_code"].str[:9]).all()


def test_streets_tile_their_district(kb):
    m = kb.streets.to_crs(kb.metric_crs)
    d = kb.districts.to_crs(kb.metric_crs).set_index("code")
    for code, part in m.groupby("parent_code"):
        union = shapely.union_all(part.geometry.values)
        dist = d.geometry[code]
        gap = dist.difference(union).area
        assert gap < 1e-4 * dist.area, code
        overlap = sum(part.geometry.area) - union.area
        assert overlap < 1e-4 * dist.area, code


def test_areas_are_unions_of_their_streets(kb):
    m = kb.streets.to_crs(kb.metric_crs)
    a = kb.areas.to_crs(kb.metric_crs).set_index("name")
    for name, part in m.groupby("area"):
        sym = shapely.union_all(part.geometry.values).symmetric_difference(a.geometry[name]).area
        assert sym < 1e-3 * a.geometry[name].area, name


def test_grid_cells_about_one_hectare(kb):
    area = kb.grids.to_crs(kb.metric_crs).area
    # 100 m squares, stored to 1e-6 degrees (±0.1 m per vertex)
    assert area.max() <= 10050 and area.median() == pytest.approx(10000, rel=2e-3)
    assert 10000 < len(kb.grids) < 40000


def _write(tmp_path, gdf, name="layer.geojson"):
    p = tmp_path / name
    gdf.to_file(p, driver="GeoJSON")
    return p


def test_broken_layer_reports_every_problem(tmp_path):
    bowtie = Polygon([(102.70, 25.00), (102.72, 25.02), (102.72, 25.00), (102.70, 25.02)])
    g = gpd.GeoDataFrame({"code": ["a", "a", "b"], "name": ["x", "y", "z"]},
                         geometry=[box(102.70, 25.00, 102.71, 25.01), box(102.705, 25.005, 102.715, 25.015), bowtie],
                         crs="EPSG:4326")
    with pytest.warns(UserWarning, match="repaired 1 invalid polygon"):
        fixed, problems = validate_layer(g, name="streets", metric_crs="EPSG:4543")
    text = " | ".join(problems)
    assert "duplicate codes ['a']" in text
    assert "overlapping pair" in text
    assert fixed.geometry.is_valid.all()


def test_missing_crs_and_parent(tmp_path):
    g = gpd.GeoDataFrame({"code": ["s1"], "parent_code": ["nope"]}, geometry=[box(0, 0, 1, 1)])
    _, problems = validate_layer(g, name="streets", metric_crs="EPSG:4543")
    assert problems == ["layer streets: no CRS declared; give the file a CRS (.prj, or a GeoJSON in WGS-84)"]
    parent = gpd.GeoDataFrame({"code": ["d1"]}, geometry=[box(102.70, 25.00, 102.71, 25.01)], crs="EPSG:4326")
    child = gpd.GeoDataFrame({"code": ["s1", "s2"], "parent_code": ["d1", "zz"]},
                             geometry=[box(102.705, 25.00, 102.72, 25.01), box(102.70, 25.00, 102.701, 25.001)],
                             crs="EPSG:4326")
    _, problems = validate_layer(child, name="streets", metric_crs="EPSG:4543", parent=parent)
    text = " | ".join(problems)
    assert "name a parent code not in the parent layer" in text and "zz" in text
    assert "outside their parent" in text and "s1" in text


def test_user_layer_with_column_mapping(tmp_path):
    g = gpd.GeoDataFrame({"JDDM": ["530102001000"], "JDMC": ["华山街道"], "QXDM": ["530102"]},
                         geometry=[box(102.70, 25.03, 102.71, 25.04)], crs="EPSG:4326")
    p = tmp_path / "streets.gpkg"
    g.to_file(p, driver="GPKG", layer="jd")
    out = read_layer(LayerSpec("streets", p, code="JDDM", label="JDMC", parent="QXDM", layer="jd"))
    assert out[["code", "name", "parent_code"]].iloc[0].tolist() == ["530102001000", "华山街道", "530102"]
    with pytest.raises(BoundaryError, match=r"has no column\(s\) \['XXX'\]"):
        read_layer(LayerSpec("streets", p, code="XXX", label="JDMC", layer="jd"))
