"""Maps: files and sizes on the demo month, the GCJ-02 shift, escaping and masking, edge inputs."""

import json
import re

import pandas as pd
import pytest

from gridgeo.cli import main
from gridgeo.crs import wgs84_to_gcj02
from gridgeo.io import write_month
from gridgeo.maps import mask_personal

AREAS = ["五华区", "盘龙区", "官渡区", "西山区", "呈贡区", "高新区", "经开区", "度假区"]


@pytest.fixture(scope="module")
def june_maps(june_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps")
    assert main(["maps", str(june_store), "--month", "2024-06", "--out", str(out), "--offline-assets"]) == 0
    return out


def test_every_area_and_the_city_light_enough(june_maps):
    folder = june_maps / "maps" / "2024-06"
    assert sorted(p.stem for p in folder.glob("*.html")) == sorted([*AREAS, "city"])
    for a in AREAS:
        assert (folder / f"{a}.html").stat().st_size < 3_000_000, a
    assert (folder / "city.html").stat().st_size < 6_000_000
    index = (june_maps / "maps" / "index.html").read_text(encoding="utf-8")
    for a in AREAS:
        assert f"href='2024-06/{a}.html'" in index
    rows = json.loads((june_maps / "maps" / "index.json").read_text(encoding="utf-8"))
    gd = next(r for r in rows if r["area"] == "官渡区")
    assert gd["cases"] == 57758 and round(100 * gd["closure_rate"], 2) == 98.46


def test_layers_titles_and_offline_assets(june_maps):
    page = (june_maps / "maps" / "2024-06" / "官渡区.html").read_text(encoding="utf-8")
    assert "官渡区 2024-06 网格案件热点图（57,758 件）" in page
    for layer in ["H3 网格（基本案件数）", "Gi* 热点/冷点（FDR）", "聚类·非法小广告", "聚类·共享单车", "聚类·占道经营",
                  "聚类·暴露垃圾", "聚类·擅自架设管线杆线设施", "新兴热点分析", "热力图", "案件点·非法小广告", "区界", "街道界",
                  "单元网格（放大查看）"]:
        assert json.dumps(layer)[1:-1] in page or layer in page, layer
    scripts = re.findall(r'<script src="([^"]+)"', page) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert scripts and all(s.startswith("../assets/") for s in scripts), scripts
    for s in scripts:
        assert (june_maps / "maps" / s.removeprefix("../")).is_file()
    assert "autonavi.com/appmaptile" in page and json.dumps("高德地图")[1:-1] in page  # Amap tiles, attribution


def _store_with(tmp_path, rows):
    store = tmp_path / "store"
    base = {"source": "12345热线", "minor": "占道经营", "registered_at": pd.Timestamp("2024-06-03 10:00"),
            "area": "五华区", "street": "华山街道", "status": "处置中"}
    write_month(store, "2024-06", pd.DataFrame([{**base, **r} for r in rows]))
    return store


def test_popups_escape_and_mask(tmp_path):
    evil = "<script>window.PWNED=1</script><img src=x onerror=alert(1)>"
    rows = [{"case_id": f"X{i}", "lon": 102.7013, "lat": 25.0439, "address": evil + " 来电人张三 13812345678",
             "description": evil} for i in range(12)]
    rows[0]["case_id"] = "<b>X0</b>"
    store = _store_with(tmp_path, rows)
    assert main(["maps", str(store), "--month", "2024-06", "--out", str(tmp_path), "--area", "五华区"]) == 0
    page = (tmp_path / "maps" / "2024-06" / "五华区.html").read_text(encoding="utf-8")
    assert "<script>window.PWNED" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;window.PWNED=1&lt;/script&gt;" in page or "\\u0026lt;script" in page
    assert "13812345678" not in page and "张三" not in page


def test_mask_personal():
    assert mask_personal("电话13812345678，身份证530102199001011234，来电人：李四") == \
        "电话138****5678，身份证530102********1234，来电人：**"
    assert mask_personal(None) == ""


def _marker_xy(page: str) -> tuple[float, float]:
    m = re.search(r"var data = \[\[([\d.]+), ([\d.]+), ", page)
    return float(m.group(2)), float(m.group(1))


def test_shift_applied_exactly_for_amap(tmp_path):
    lon, lat = 102.7013, 25.0439
    store = _store_with(tmp_path, [{"case_id": f"S{i}", "lon": lon, "lat": lat} for i in range(3)])
    pages = {}
    for bm in ("amap", "osm", "none"):
        out = tmp_path / bm
        assert main(["maps", str(store), "--month", "2024-06", "--out", str(out), "--area", "五华区", "--basemap", bm]) == 0
        pages[bm] = (out / "maps" / "2024-06" / "五华区.html").read_text(encoding="utf-8")
    gx, gy = wgs84_to_gcj02(lon, lat)
    assert _marker_xy(pages["amap"]) == pytest.approx((float(gx), float(gy)), abs=2e-5)
    assert _marker_xy(pages["osm"]) == pytest.approx((lon, lat), abs=2e-5)
    assert _marker_xy(pages["none"]) == _marker_xy(pages["osm"])
    # the street boundaries move with the points: the same offset on both maps
    first = lambda p: [float(v) for v in re.search(r'"coordinates": \[\[\[([\d.]+), ([\d.]+)\]', p).groups()]  # noqa: E731
    (ax, ay), (ox, oy) = first(pages["amap"]), first(pages["osm"])
    mx, my = _marker_xy(pages["amap"])
    nx, ny = _marker_xy(pages["osm"])
    assert (mx - ax, my - ay) == pytest.approx((nx - ox, ny - oy), abs=3e-5)
    assert "tile.openstreetmap.org" in pages["osm"] and "tile.openstreetmap.org" not in pages["none"]


def test_edge_inputs(tmp_path, capsys):
    store = _store_with(tmp_path, [{"case_id": "E1", "lon": 102.7013, "lat": 25.0439}])
    assert main(["maps", str(store), "--month", "2024-06", "--out", str(tmp_path), "--area", "火星区"]) == 1
    err = capsys.readouterr().err
    assert "unknown area '火星区'" in err and "官渡区" in err
    assert main(["maps", str(store), "--month", "2024-06", "--out", str(tmp_path), "--basemap", "tianditu"]) == 1
    assert "--tianditu-key" in capsys.readouterr().err
    # a month without cases gives maps that say so
    assert main(["maps", str(store), "--month", "2024-07", "--out", str(tmp_path), "--area", "官渡区"]) == 0
    page = (tmp_path / "maps" / "2024-07" / "官渡区.html").read_text(encoding="utf-8")
    assert "本月没有案件" in page
    # an area with no cases in a month that has cases
    assert main(["maps", str(store), "--month", "2024-06", "--out", str(tmp_path), "--area", "度假区"]) == 0
    assert "本月没有案件" in (tmp_path / "maps" / "2024-06" / "度假区.html").read_text(encoding="utf-8")
