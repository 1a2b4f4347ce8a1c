"""The maps as a person sees them: headless Chromium (Debian's package) driven by Playwright."""

import os
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gridgeo.cli import main
from gridgeo.io import write_month

CHROMIUM = os.environ.get("GRIDGEO_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (as .ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def gd_map(june_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("bmaps")
    assert main(["maps", str(june_store), "--month", "2024-06", "--out", str(out), "--area", "官渡区",
                 "--basemap", "none", "--offline-assets"]) == 0
    return out


def _open(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("http*://**", lambda route: route.abort())  # nothing may come from the network
    page.goto(path.as_uri())
    page.wait_for_function("() => Object.keys(window).some(k => k.startsWith('map_'))")
    page.wait_for_timeout(500)
    return page, errors


MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"


def test_loads_without_errors_and_lists_the_layers(browser, gd_map):
    page, errors = _open(browser, gd_map / "maps" / "2024-06" / "官渡区.html")
    assert errors == []
    labels = [t.strip() for t in page.locator(".leaflet-control-layers-overlays label").all_inner_texts()]
    for name in ["H3 网格（基本案件数）", "Gi* 热点/冷点（FDR）", "聚类·非法小广告", "聚类·共享单车", "聚类·占道经营", "聚类·暴露垃圾",
                 "聚类·擅自架设管线杆线设施", "新兴热点分析", "热力图", "案件点·非法小广告", "区界", "街道界", "单元网格（放大查看）"]:
        assert name in labels, name
    assert "官渡区 2024-06 网格案件热点图（57,758 件）" in page.inner_text(".gridgeo-title")
    # toggling a layer adds its features to the map
    before = page.evaluate(f"Object.keys({MAP}._layers).length")
    page.locator(".leaflet-control-layers-overlays label", has_text="聚类·占道经营").locator("input").check()
    after = page.evaluate(f"Object.keys({MAP}._layers).length")
    assert after > before
    page.locator(".leaflet-control-layers-overlays label", has_text="聚类·占道经营").locator("input").uncheck()
    assert page.evaluate(f"Object.keys({MAP}._layers).length") == before
    page.close()


def test_clicking_a_cluster_opens_its_popup_with_the_case_count(browser, gd_map):
    clusters = gpd.read_file(gd_map / "hotspots" / "2024-06.gpkg", layer="clusters")
    c = clusters[(clusters["area"] == "官渡区") & (clusters["class"] == "非法小广告")].sort_values("count").iloc[-1]
    page, errors = _open(browser, gd_map / "maps" / "2024-06" / "官渡区.html")
    pt = c.geometry.representative_point()
    page.evaluate(f"() => {{ {MAP}.setView([{pt.y}, {pt.x}], 17, {{animate: false}}); }}")
    page.wait_for_timeout(400)
    xy = page.evaluate(f"(() => {{ const p = {MAP}.latLngToContainerPoint([{pt.y}, {pt.x}]); "
                       f"const r = {MAP}.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }})()")
    page.mouse.click(*xy)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    text = popup.inner_text()
    assert c["cluster_id"] in text and str(int(c["count"])) in text and "非法小广告" in text
    assert errors == []
    page.close()


def test_injected_script_does_not_run(browser, tmp_path):
    evil = "<script>window.PWNED=1</script><img src=x onerror=\"window.PWNED=2\">"
    store = tmp_path / "store"
    rows = [{"case_id": f"X{i}", "source": "12345热线", "minor": "占道经营", "area": "五华区", "street": "华山街道",
             "registered_at": pd.Timestamp("2024-06-03 10:00"), "lon": 102.7013, "lat": 25.0439,
             "address": evil, "status": evil} for i in range(5)]
    write_month(store, "2024-06", pd.DataFrame(rows))
    assert main(["maps", str(store), "--month", "2024-06", "--out", str(tmp_path), "--area", "五华区",
                 "--basemap", "none", "--offline-assets"]) == 0
    page, errors = _open(browser, tmp_path / "maps" / "2024-06" / "五华区.html")
    page.locator(".leaflet-control-layers-overlays label", has_text="案件点·占道经营").locator("input").check()
    page.evaluate(f"() => {{ {MAP}.setView([25.0439, 102.7013], 18, {{animate: false}}); }}")
    page.wait_for_timeout(600)
    opened = page.evaluate(f"""() => {{ let n = 0; {MAP}.eachLayer(g => {{
        if (g instanceof L.MarkerClusterGroup && g._map) {{ const ms = g.getLayers(); n += ms.length;
            if (ms.length) L.popup().setLatLng(ms[0].getLatLng()).setContent(ms[0].getPopup().getContent())
                                .openOn({MAP}); }} }}); return n; }}""")
    assert opened >= 1
    page.locator(".leaflet-popup-content").first.wait_for(timeout=5000)
    text = page.locator(".leaflet-popup-content").first.inner_text()
    assert "<script>window.PWNED=1</script>" in text  # shown as text
    assert page.evaluate("window.PWNED") is None
    assert errors == []
    page.close()


def test_screenshot_shows_a_painted_map(browser, gd_map, tmp_path):
    import matplotlib.image as mpimg

    page, errors = _open(browser, gd_map / "maps" / "2024-06" / "官渡区.html")
    shot = tmp_path / "map.png"
    page.screenshot(path=str(shot))
    img = mpimg.imread(shot)[:, :, :3]
    background = np.array([0xdd, 0xdd, 0xdd]) / 255.0  # Leaflet's empty map colour
    painted = (np.abs(img - background).sum(axis=2) > 0.05).mean()
    assert painted > 0.05, painted  # hexagons, clusters and boundaries cover part of the view
    reds = ((img[:, :, 0] > 0.6) & (img[:, :, 2] < 0.5)).mean()
    assert reds > 0.002  # the choropleth / hot cells are drawn
    page.close()
