"""Geocoding, H3 bins, DBSCAN, Gi* with FDR and emerging hotspots, against independent references."""

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pyogrio
import pytest
from sklearn.cluster import DBSCAN

from gridgeo.bins import bin_cases, cells_of
from gridgeo.boundaries import load_boundaries
from gridgeo.cli import main
from gridgeo.clusters import cluster_cases, cluster_labels, project
from gridgeo.geocode import geocode
from gridgeo.hotspots import _category, emerging_hotspots, fdr_bins, gi_star, kring_weights, mann_kendall


@pytest.fixture(scope="module")
def kb(profile):
    return load_boundaries(profile)


def test_geocode_recovers_the_platform_assignment(june, kb, profile):
    sample = june.sample(30000, random_state=3).reset_index(drop=True)
    blank = sample.drop(columns=["area", "district", "street", "community", "grid_code"])
    out, rep = geocode(blank, kb, area_aliases=profile.area_aliases)
    assert rep.methods == {"point": 30000}
    for c in ("area", "street", "grid_code", "community"):
        assert (out[c] == sample[c]).mean() > 0.999, c
    # against geopandas' own spatial join on the street layer
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(sample["lon"], sample["lat"]), crs="EPSG:4326")
    j = gpd.sjoin(pts, kb.streets[["name", "geometry"]], predicate="within", how="left")
    j = j[~j.index.duplicated()]
    assert (j["name"].to_numpy() == out["street"].to_numpy()).mean() > 0.999


def test_geocode_snaps_addresses_and_disagreements(kb, profile):
    from shapely.ops import nearest_points

    districts = kb.districts.to_crs(kb.metric_crs)
    edge = districts.union_all().boundary
    # a point 20 m outside the outer boundary, and one 5 km outside
    p = edge.interpolate(0.3, normalized=True)
    centre = districts.union_all().centroid
    direction = np.array([p.x - centre.x, p.y - centre.y])
    direction /= np.linalg.norm(direction)
    near = gpd.GeoSeries(gpd.points_from_xy([p.x + 20 * direction[0], p.x + 5000 * direction[0]],
                                            [p.y + 20 * direction[1], p.y + 5000 * direction[1]]),
                         crs=kb.metric_crs).to_crs("EPSG:4326")
    assert not districts.union_all().contains(nearest_points(edge, p)[0].buffer(-1))
    cases = pd.DataFrame({
        "case_id": ["N", "F", "A1", "A2", "A3", "A4", "G"],
        "lon": [near.x[0], near.x[1], np.nan, np.nan, np.nan, np.nan, 102.7183],
        "lat": [near.y[0], near.y[1], np.nan, np.nan, np.nan, np.nan, 25.0389],
        "address": [None, None, "官渡区矣六街道办事处旁边12号", "昆明经开区某路与某路交叉口东南角", "西山区马街第3社区5栋",
                    "某某小区3栋", None],
        "area": [None, None, None, None, None, None, "呈贡区"],
    })
    out, rep = geocode(cases, kb, area_aliases=profile.area_aliases)
    m = dict(zip(out["case_id"], out["geocode_method"]))
    assert m == {"N": "snapped", "F": "none", "A1": "address", "A2": "address", "A3": "address", "A4": "none", "G": "point"}
    r = out.set_index("case_id")
    assert (r.loc["A1", "area"], r.loc["A1", "street"]) == ("官渡区", "矣六街道")
    assert r.loc["A2", "area"] == "经开区" and pd.isna(r.loc["A2", "street"])
    assert (r.loc["A3", "street"], r.loc["A3", "community"]) == ("马街街道", "马街第3社区")
    assert pd.isna(r.loc["A1", "lon"])  # an address gives a polygon, not a point
    # the platform said 呈贡区 for a point in 五华区: kept, and counted
    assert r.loc["G", "area"] == "呈贡区" and rep.area_disagrees == 1
    assert rep.methods == {"address": 3, "none": 2, "point": 1, "snapped": 1}


def test_bins_match_an_independent_count(june):
    d = june[june["street"] == "矣六街道"]
    b = bin_cases(d, resolution=9, by=("minor",))
    ref = d.assign(h3=[h3.latlng_to_cell(la, lo, 9) for la, lo in zip(d["lat"], d["lon"])])
    want = ref.groupby(["minor", "h3"]).agg(count=("case_id", "size"), weighted=("weight", "sum")).reset_index()
    got = b.sort_values(["minor", "h3"]).reset_index(drop=True)
    assert got[["minor", "h3", "count"]].astype(str).values.tolist() == want[["minor", "h3", "count"]].astype(str).values.tolist()
    assert np.allclose(got["weighted"], want["weighted"])
    assert cells_of([102.7183], [25.0389], 9)[0] == h3.latlng_to_cell(25.0389, 102.7183, 9)
    assert cells_of([np.nan], [25.0], 9)[0] is None
    with pytest.raises(ValueError, match="7 to 10"):
        cells_of([102.7], [25.0], 12)


def test_dbscan_equals_sklearn_on_every_case(june, profile):
    d = june[(june["street"] == "矣六街道") & (june["minor"] == "非法小广告")]
    xy = project(d["lon"].to_numpy(), d["lat"].to_numpy(), profile.metric_crs)
    assert len(np.unique(xy, axis=0)) < 0.5 * len(xy)  # heavy repetition: the case the shortcut is for
    for eps, k in ((30, 15), (50, 10), (15, 40)):
        ours = cluster_labels(xy, eps_m=eps, min_samples=k)
        ref = DBSCAN(eps=eps, min_samples=k).fit(xy)
        core = np.zeros(len(xy), bool)
        core[ref.core_sample_indices_] = True
        assert np.array_equal(ours == -1, ref.labels_ == -1)
        # the core points fall into the same clusters (labels may be renumbered)
        pairs = set(zip(ours[core], ref.labels_[core]))
        assert len(pairs) == len(set(ours[core])) == len(set(ref.labels_[core]))
        # a border point joins a cluster with a core point within eps, as DBSCAN allows
        border = np.flatnonzero(~core & (ours >= 0))
        for i in border[:200]:
            near = core & (np.hypot(*(xy - xy[i]).T) <= eps)
            assert ours[i] in set(ours[near])


def test_clusters_table_and_stable_ids(june, profile):
    d = june[june["street"].isin(["矣六街道", "黑林铺街道"])]
    codes = {"非法小广告": "E0201", "共享单车": "E0521"}
    c1, l1 = cluster_cases(d, metric_crs=profile.metric_crs, classes=["非法小广告", "共享单车"], class_codes=codes,
                           eps_m=30, min_samples=15)
    c2, _ = cluster_cases(d.sample(frac=1, random_state=5), metric_crs=profile.metric_crs,
                          classes=["非法小广告", "共享单车"], class_codes=codes, eps_m=30, min_samples=15)
    assert c1["cluster_id"].tolist() == c2["cluster_id"].tolist() and c1["cluster_id"].is_unique
    ads = c1[(c1["class"] == "非法小广告") & (c1["street"] == "矣六街道")]
    assert len(ads) >= 3 and ads["count"].sum() > 0.5 * ((d["street"] == "矣六街道") & (d["minor"] == "非法小广告")).sum()
    assert (c1.geometry.geom_type == "Polygon").all() and c1.geometry.is_valid.all()
    assert l1.groupby("cluster_id").size().reindex(c1["cluster_id"]).tolist() == c1["count"].tolist()
    assert c1["cluster_id"].str.match(r"E0(201|521)-[0-9a-f]{15}").all()
    # the same locations in the next month keep their ids
    nxt = d.assign(registered_at=d["registered_at"] + pd.Timedelta(days=30))
    c3, _ = cluster_cases(nxt, metric_crs=profile.metric_crs, classes=["非法小广告", "共享单车"], class_codes=codes,
                          eps_m=30, min_samples=15)
    assert set(c3["cluster_id"]) == set(c1["cluster_id"])


def _disk(k=6):
    return sorted(h3.grid_disk(h3.latlng_to_cell(25.04, 102.72, 9), k))


def test_gi_star_equals_esda():
    from esda.getisord import G_Local
    from libpysal.weights import W

    cells = _disk()
    rng = np.random.default_rng(0)
    y = rng.poisson(3, len(cells)).astype(float)
    y[:5] += 30
    w = kring_weights(cells, 1)
    z, p = gi_star(y, w)
    pos = {c: i for i, c in enumerate(cells)}
    neighbours = {i: [pos[n] for n in h3.grid_ring(c, 1) if n in pos] for i, c in enumerate(cells)}
    lw = W(neighbours, silence_warnings=True)
    ref = G_Local(y, lw, transform="B", star=True, permutations=0)
    assert np.allclose(z, ref.Zs, atol=1e-10)
    assert np.allclose(p, 2 * ref.p_norm, atol=1e-12)


def test_fdr_false_positives_on_random_points():
    cells = _disk(20)  # 1,261 cells
    w = kring_weights(cells, 1)
    rng = np.random.default_rng(1)
    shares = []
    for rep in range(10):
        y = rng.poisson(8.0, len(cells)).astype(float)
        z, p = gi_star(y, w)
        shares.append((fdr_bins(z, p) != 0).mean())
    assert np.mean(shares) <= 0.05
    raw = (fdr_bins(z, p, fdr=False) != 0).mean()
    assert raw > np.mean(shares)  # without FDR, about 10 % of random cells look "significant"


def test_bh_and_bins_by_hand():
    z = np.array([4.0, -3.5, 1.0, 2.2, np.nan])
    p = np.array([0.0001, 0.0004, 0.3, 0.028, np.nan])
    # BH at 0.05 with m=4: sorted p 0.0001, 0.0004, 0.028, 0.3 vs 0.0125, 0.025, 0.0375, 0.05 → first three
    # at 0.01: thresholds 0.0025, 0.005, 0.0075, 0.01 → first two
    assert fdr_bins(z, p).tolist() == [3, -3, 0, 2, 0]


def test_mann_kendall_matches_kendall_tau():
    from scipy.stats import kendalltau

    x = np.array([0.1, 0.5, 0.4, 1.2, 1.9, 2.5])
    z, p = mann_kendall(x)
    tau = kendalltau(np.arange(len(x)), x).statistic
    n = len(x)
    s = tau * n * (n - 1) / 2
    assert z == pytest.approx((s - 1) / np.sqrt(n * (n - 1) * (2 * n + 5) / 18))
    assert p < 0.05 and mann_kendall(x[::-1])[0] < 0


@pytest.mark.parametrize(("bins", "trend", "want"), [
    ([0, 0, 0, 0, 0, 2], (0, 1), "新增热点"),
    ([0, 0, 0, 1, 2, 3], (3, 0.001), "连续热点"),
    ([1, 2, 2, 3, 3, 3], (2.5, 0.01), "加剧热点"),
    ([2, 2, 2, 2, 2, 2], (0.2, 0.8), "持续热点"),
    ([3, 3, 3, 2, 2, 1], (-2.5, 0.01), "减弱热点"),
    ([1, 0, 2, 0, 0, 1], (0, 1), "零星热点"),
    ([-1, 0, 0, 0, 2, 2], (1, 0.3), "振荡热点"),
    ([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0], (0, 1), "历史热点"),
    ([0, 0, 0, 0, 0, -1], (0, 1), "新增冷点"),
    ([-2, -2, -2, -2, -2, -2], (0, 1), "持续冷点"),
    ([0, 1, 0, 0, 0, 0], (0, 1), "无模式"),
])
def test_emerging_categories(bins, trend, want):
    assert _category(np.array(bins), trend[0], trend[1], 0.05) == want


def test_emerging_finds_a_growing_hotspot():
    cells = _disk(8)
    months = [f"2024-0{m}" for m in range(1, 7)]
    rng = np.random.default_rng(2)
    rows = []
    hot = set(h3.grid_disk(cells[100], 1))
    for t, m in enumerate(months):
        for c in cells:
            v = rng.poisson(3) + (30 + 6 * t if c in hot else 0)
            rows.append({"h3": c, "month": m, "value": v})
    em = emerging_hotspots(pd.DataFrame(rows), cells, months).set_index("h3")
    cats = em.loc[sorted(hot), "category"]
    assert cats.isin(["加剧热点", "连续热点", "持续热点"]).all() and (cats == "加剧热点").any()
    assert (em.drop(index=sorted(hot))["category"].isin(["无模式", "零星热点", "新增热点"])).mean() > 0.9


def test_hotspots_command_on_the_demo_store(small_store, tmp_path, capsys):
    assert main(["hotspots", str(small_store), "--month", "2024-06", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "地理编码：point" in out
    gpkg = tmp_path / "hotspots" / "2024-06.gpkg"
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == ["case_clusters", "cells", "clusters", "emerging"]
    cells = gpd.read_file(gpkg, layer="cells")
    assert {"h3", "count", "weighted", "gi_z", "gi_p", "gi_bin"} <= set(cells.columns)
    assert cells["h3"].is_monotonic_increasing and (cells["count"] == 0).any()
    june = pd.read_parquet(small_store / "cases" / "2024-06.parquet")
    assert cells["count"].sum() == june["lon"].notna().sum()
    csv = (tmp_path / "hotspots" / "2024-06-cells.csv").read_bytes()
    assert csv.startswith(b"\xef\xbb\xbf")
    em = gpd.read_file(gpkg, layer="emerging")
    assert set(em["category"]) <= {"新增热点", "连续热点", "加剧热点", "持续热点", "减弱热点", "零星热点", "振荡热点", "历史热点",
                                   "新增冷点", "连续冷点", "加剧冷点", "持续冷点", "减弱冷点", "零星冷点", "振荡冷点", "历史冷点", "无模式"}
    # demo already ran the stage into its own folder
    assert (small_store / "hotspots" / "2024-06.gpkg").exists()


def test_hotspots_edge_inputs(small_store, tmp_path, capsys):
    assert main(["hotspots", str(small_store), "--month", "2023-01", "--out", str(tmp_path)]) == 1
    assert "no cases for 2023-01" in capsys.readouterr().err
    assert main(["hotspots", str(small_store), "--month", "2024-06", "--area", "火星区", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "unknown area '火星区'" in err and "官渡区" in err
    # a class absent from the month gives empty layers, not a crash
    assert main(["hotspots", str(small_store), "--month", "2024-06", "--class", "火灾", "--out", str(tmp_path)]) == 0
    assert len(gpd.read_file(tmp_path / "hotspots" / "2024-06.gpkg", layer="clusters")) == 0
    # one case; all cases at one point; a case without coordinates
    store = tmp_path / "tiny"
    from gridgeo.io import write_month

    base = {"source": "市级监督员", "minor": "非法小广告", "registered_at": pd.Timestamp("2024-06-03 10:00")}
    rows = [{**base, "case_id": f"P{i}", "lon": 102.7183, "lat": 25.0389} for i in range(30)]
    rows.append({**base, "case_id": "Q", "lon": np.nan, "lat": np.nan})
    write_month(store, "2024-06", pd.DataFrame(rows))
    assert main(["hotspots", str(store), "--month", "2024-06", "--out", str(tmp_path / "t")]) == 0
    cl = gpd.read_file(tmp_path / "t" / "hotspots" / "2024-06.gpkg", layer="clusters")
    assert len(cl) == 1 and cl["count"].iloc[0] == 30
    write_month(store, "2024-07", pd.DataFrame([{**base, "case_id": "R", "lon": 102.7183, "lat": 25.0389,
                                                  "registered_at": pd.Timestamp("2024-07-03 10:00")}]))
    assert main(["hotspots", str(store), "--month", "2024-07", "--out", str(tmp_path / "u")]) == 0


@pytest.mark.parametrize("minor", ["非法小广告", "共享单车"])
def test_planted_concentrations_of_yiliu_are_clusters_and_hot_cells(june, kb, profile, minor):
    from gridgeo.hotspots import hotspot_layers

    cases = pd.DataFrame(june.drop(columns="geometry"))
    layers = hotspot_layers(cases, month="2024-06", boundaries=kb, profile=profile, minor=minor)
    cl = layers["clusters"]
    yl = cl[cl["street"] == "矣六街道"].sort_values("count", ascending=False)
    assert len(yl) >= 3
    cells = layers["cells"].set_index("h3")
    top = yl.head(3)
    hot = [cells.loc[h3.latlng_to_cell(la, lo, 9), "gi_bin"] for la, lo in zip(top["centroid_lat"], top["centroid_lon"])]
    assert min(hot) >= 2, hot  # FDR-significant at 95 % or more
    sig = cells[cells["gi_bin"] > 0]
    assert (sig["area"] == "官渡区").any()


def test_hdbscan_option_separates_two_blobs():
    rng = np.random.default_rng(4)
    xy = np.vstack([rng.normal(0, 10, (200, 2)), rng.normal(500, 10, (200, 2)), rng.uniform(-300, 800, (20, 2))])
    lab = cluster_labels(xy, eps_m=30, min_samples=15, method="hdbscan")
    assert len(set(lab[:200]) - {-1}) == 1 and len(set(lab[200:400]) - {-1}) == 1
    assert set(lab[:200]) != set(lab[200:400])
    with pytest.raises(ValueError, match="dbscan or hdbscan"):
        cluster_labels(xy, eps_m=30, min_samples=15, method="optics")
