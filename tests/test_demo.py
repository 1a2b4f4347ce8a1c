"""The demo: June 2024 recomputed from its parquet rows equals the real bulletin; all months believable.

The figures below are typed from shared/reference/kunming-bulletin-2024-06.txt, not read from the
calibration file, so a wrong target there fails here too.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from gridgeo.boundaries import load_boundaries

BY_AREA = {  # 全市网格案件结案情况: registered, closed, closed on time
    "经开区": (12297, 12156, 11993), "官渡区": (57758, 56867, 56553), "盘龙区": (30024, 29550, 29116),
    "高新区": (4351, 4263, 4245), "五华区": (45910, 44902, 44824), "呈贡区": (21411, 20894, 20726),
    "度假区": (2139, 2079, 2062), "西山区": (39135, 37979, 37515),
}
BY_SOURCE = {"市级监督员": 56797, "区级监督员": 150526, "12345热线": 3125, "微信网站": 2262,
             "卫星遥感": 266, "视频": 25, "鹰眼": 21, "无人机": 3}


def pct(x) -> str:
    return f"{100 * x:.2f}"


@pytest.fixture(scope="module")
def jun(june):
    d = june.copy()
    d["closed"] = d["closed_at"].notna()
    d["on_time"] = d["closed"] & (d["closed_at"] <= d["deadline"])
    return d


def test_totals_areas_platforms(jun):
    assert (len(jun), jun["closed"].sum(), jun["on_time"].sum()) == (213025, 208690, 207034)
    for area, want in BY_AREA.items():
        a = jun[jun["area"] == area]
        assert (len(a), a["closed"].sum(), a["on_time"].sum()) == want, area
    for plat, want in {"市级": (62446, 58615, 57614), "区级": (150579, 150075, 149420)}.items():
        p = jun[jun["platform"] == plat]
        assert (len(p), p["closed"].sum(), p["on_time"].sum()) == want, plat
    assert pct(jun["closed"].mean()) == "97.97" and pct(jun["on_time"].mean()) == "97.19"


def test_sources(jun):
    assert jun["source"].value_counts().to_dict() == BY_SOURCE
    by = jun.groupby(["source", "area"]).size()
    city, dist = by["市级监督员"], by["区级监督员"]
    assert (city.idxmax(), city.max(), city.idxmin(), city.min()) == ("五华区", 13370, "高新区", 1121)
    assert (dist.idxmax(), dist.max(), dist.idxmin(), dist.min()) == ("官渡区", 45826, "度假区", 966)
    hot = jun.loc[jun["source"] == "12345热线", "minor"].value_counts(normalize=True)
    assert pct(hot["占道经营"]) == "73.89" and pct(hot["店外经营"]) == "9.38"
    assert by["视频"].to_dict() == {"官渡区": 3, "盘龙区": 22}
    assert by["鹰眼"].to_dict() == {"盘龙区": 21} and by["无人机"].to_dict() == {"西山区": 3}
    tech = jun[jun["source"].isin(["视频", "鹰眼", "无人机"])]
    assert tech["closed"].all()
    assert not jun.loc[jun["source"] == "卫星遥感", "closed"].any()


def test_classes_and_key_cases(jun):
    assert jun["kind"].value_counts().to_dict() == {"事件": 188500, "部件": 21400}
    for kind, top in {"事件": [("非法小广告", "17.19"), ("擅自架设管线杆线设施", "11.19")],
                      "部件": [("雨水箅子", "8.90"), ("不明井盖", "8.84")]}.items():
        w = jun[jun["kind"] == kind].groupby("minor")["weight"].sum().sort_values(ascending=False)
        assert [(m, pct(v / w.sum())) for m, v in w.iloc[:2].items()] == top
    key = jun[jun["is_key"]]
    assert (len(key), key["closed"].sum()) == (103702, 100905)
    assert pct(len(key) / len(jun)) == "48.68" and pct(key["closed"].mean()) == "97.30"
    rate = key.groupby("area")["closed"].mean().sort_values(ascending=False)
    assert [(a, pct(r)) for a, r in rate.iloc[:3].items()] == [("官渡区", "98.15"), ("盘龙区", "97.76"), ("五华区", "97.28")]
    counts = key["minor"].value_counts()
    got = [(m, pct(n / len(key)), pct(key.loc[key["minor"] == m, "closed"].mean())) for m, n in counts.iloc[:3].items()]
    assert got == [("非法小广告", "29.91", "99.43"), ("暴露垃圾", "17.28", "98.85"), ("占道经营", "10.66", "99.53")]
    sp = key[key["minor"] == "私搭乱建（疑似新增）"]
    assert (len(sp), sp["closed"].sum(), pct(len(sp) / len(key)), pct(sp["closed"].mean())) == (544, 228, "0.52", "41.91")


def test_streets(jun):
    counts = jun["street"].value_counts()
    assert list(counts.index[:2]) == ["矣六街道", "黑林铺街道"]
    assert jun.loc[jun["street"] == "矣六街道", "area"].unique().tolist() == ["官渡区"]
    for street, top in {"矣六街道": [("非法小广告", "44.35"), ("共享单车", "19.29")],
                        "黑林铺街道": [("占道经营", "11.40"), ("暴露垃圾", "8.78")]}.items():
        share = jun.loc[jun["street"] == street, "minor"].value_counts(normalize=True)
        assert [(m, pct(v)) for m, v in share.iloc[:2].items()] == top
    closure = jun.groupby("street")["closed"].mean().sort_values()
    assert [(s, pct(r)) for s, r in closure.iloc[:2].items()] == [("马街街道", "92.40"), ("黑林铺街道", "93.36")]


def test_grid_workers(jun):
    gw = jun[jun["handled_by_grid_worker"]]
    assert len(gw) == 103081
    top = gw["area"].value_counts().iloc[:3]
    assert top.to_dict() == {"官渡区": 23440, "五华区": 22890, "西山区": 18475}
    rate = gw.groupby("area")["closed"].mean()
    assert {a: pct(r) for a, r in rate.items()} == {
        "五华区": "100.00", "盘龙区": "99.00", "官渡区": "99.00", "呈贡区": "99.00", "高新区": "99.00",
        "经开区": "99.00", "西山区": "98.00", "度假区": "97.00"}


def test_cases_sit_in_their_street_and_grid_cell(june, profile):
    b = load_boundaries(profile)
    pts = gpd.GeoDataFrame(june[["case_id", "street", "grid_code"]],
                           geometry=gpd.points_from_xy(june["lon"], june["lat"]), crs="EPSG:4326")
    sample = pts.sample(20000, random_state=1)
    j = gpd.sjoin(sample, b.grids[["code", "street", "geometry"]], predicate="intersects", how="left")
    j = j[~j.index.duplicated()]
    assert (j["code"] == j["grid_code"]).mean() > 0.999
    assert (j["street_right"] == j["street_left"]).mean() > 0.999


def test_timestamps_are_a_working_day(jun):
    assert jun["registered_at"].dt.strftime("%Y-%m").eq("2024-06").all()
    assert (jun["reported_at"] <= jun["registered_at"]).all()
    assert (jun["dispatched_at"] >= jun["registered_at"]).all()
    c = jun[jun["closed"]]
    assert (c["closed_at"] >= c["dispatched_at"]).all() and (c["closed_at"] < pd.Timestamp("2024-07-01")).all()
    insp = jun[jun["source"].isin(["市级监督员", "区级监督员"])]
    hour = insp["registered_at"].dt.hour
    assert hour.between(9, 17).all() and not hour.isin([12, 13]).any()
    # 10 June 2024 was the Dragon Boat holiday: few reports, all from the night and technology sources
    assert (jun["registered_at"].dt.day == 10).mean() < 0.02
    # deadlines follow the class limits: 暴露垃圾 has 4 working hours, so never more than 4 days away
    g = jun[jun["minor"] == "暴露垃圾"]
    assert ((g["deadline"] - g["dispatched_at"]) < pd.Timedelta(days=4)).all()
    assert jun["case_id"].is_unique and jun["case_id"].str.fullmatch(r"2024昆\(.\)管字06\d{7}号").all()


def test_planted_hotspots_are_tight(jun, profile):
    """矣六's small ads repeat at a few sites: far more coincident locations than its other classes."""
    s = jun[jun["street"] == "矣六街道"]
    ads = s[s["minor"] == "非法小广告"]
    other = s[~s["minor"].isin(["非法小广告", "共享单车"])]
    top_site_share = lambda d: d.groupby(["lon", "lat"]).size().nlargest(20).sum() / len(d)  # noqa: E731
    assert top_site_share(ads) > 2 * top_site_share(other)
    xy = gpd.GeoSeries(gpd.points_from_xy(ads["lon"], ads["lat"]), crs="EPSG:4326").to_crs(profile.metric_crs)
    c = np.column_stack([xy.x, xy.y])
    from sklearn.neighbors import NearestNeighbors

    d, _ = NearestNeighbors(n_neighbors=10).fit(c).kneighbors(c)
    assert np.median(d[:, -1]) < 10.0  # half of them have 9 other ads within 10 m


def test_six_months_and_determinism(small_store):
    from gridgeo.demo import run_demo

    months = sorted(p.stem for p in (small_store / "cases").glob("*.parquet"))
    assert months == [f"2024-0{m}" for m in range(1, 7)]
    # demo runs the later stages into the same folder: maps and the bulletin of every month
    assert len(list((small_store / "maps").glob("2024-0*/city.html"))) == 6 and (small_store / "maps" / "index.html").exists()
    assert sorted(p.name for p in (small_store / "bulletin").glob("2024-06.*")) == [
        "2024-06.docx", "2024-06.html", "2024-06.json", "2024-06.md"]
    import json

    b = json.loads((small_store / "bulletin" / "2024-06.json").read_text(encoding="utf-8"))
    hs = b["hotspots"]  # the hotspot stage ran before the bulletin, so its summary is in it
    clusters = pd.read_csv(small_store / "hotspots" / "2024-06-clusters.csv", encoding="utf-8-sig")
    assert [r["area"] for r in hs["by_area"]] == ["五华区", "盘龙区", "官渡区", "西山区", "呈贡区", "高新区", "经开区", "度假区"]
    assert sum(r["clusters"] for r in hs["by_area"]) == len(clusters.dropna(subset=["area"]))
    sizes = {m: len(pd.read_parquet(small_store / "cases" / f"{m}.parquet")) for m in months}
    june = sizes["2024-06"]
    assert june == pytest.approx(213025 * 0.02, rel=0.02)
    assert sizes["2024-02"] < sizes["2024-01"] < june  # Spring Festival dip
    for m in months:
        d = pd.read_parquet(small_store / "cases" / f"{m}.parquet")
        rate = d["closed_at"].notna().mean()
        assert 0.95 < rate < 0.995, m
        assert d["registered_at"].dt.strftime("%Y-%m").eq(m).all()
    again = run_demo(small_store.parent / "again", scale=0.02, months=["2024-03"])
    a = pd.read_parquet(small_store / "cases" / "2024-03.parquet")
    b = pd.read_parquet(small_store.parent / "again" / "cases" / "2024-03.parquet")
    assert again == {"2024-03": len(a)}
    pd.testing.assert_frame_equal(a, b)
    c = run_demo(small_store.parent / "other-seed", scale=0.02, months=["2024-03"], seed=7)
    assert not pd.read_parquet(small_store.parent / "other-seed" / "cases" / "2024-03.parquet")["lon"].equals(a["lon"])
    assert c["2024-03"] > 0


def test_demo_cli_errors(tmp_path, capsys):
    from gridgeo.cli import main

    assert main(["demo", "--out", str(tmp_path), "--scale", "0"]) == 1
    assert "--scale must be in (0, 1]" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["demo"])
    assert e.value.code == 2


def test_contradictory_calibration_is_refused_with_every_problem(profile, tmp_path):
    import tomllib

    from gridgeo.demo.plan import check_calibration
    from gridgeo.errors import CalibrationError

    path = profile.resolve(profile.demo["calibration"])
    cal = tomllib.loads(path.read_text(encoding="utf-8"))
    check_calibration(cal, "ok", profile.sources.platform_of())  # the shipped design adds up
    cal["design"]["source_by_area"]["五华区"]["市级监督员"] += 1
    cal["design"]["unclosed"]["西山区"][0] -= 2
    with pytest.raises(CalibrationError, match=r"source_by_area\[五华区\] sums to 45911, target 45910") as e:
        check_calibration(cal, "bad", profile.sources.platform_of())
    assert "design.unclosed[西山区] gives 37981 closed, target 37979" in str(e.value)
    assert "extremes" in str(e.value)  # 13371 is no longer the bulletin's maximum
