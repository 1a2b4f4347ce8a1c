"""Ingest of messy exports, through the command line, with every row accounted for."""

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from gridgeo.cli import main
from gridgeo.ingest import parse_times

HEADER = "案件号,问题来源,问题类型,大类名称,小类名称,问题描述,地址,X坐标,Y坐标,上报时间,立案时间,处置截止时间,结案时间,当前阶段,所属区,街道,来电人,联系电话"
# GCJ-02 of the published Kunming vector: WGS (lon 102.7183, lat 25.0389)
GX, GY = "102.7197523947017", "25.035934505742244"
ROWS = [
    f"A001,市级监督员,事件,宣传广告,非法小广告,电杆上有小广告,五华区华山街道,{GX},{GY},2024-06-03 09:00:00,2024-06-03 09:05:00,2024-06-03 17:05:00,2024-06-03 11:00:00,已结案,五华区,华山街道,,",
    f"A002,区监督员,事件,街面秩序,占道经营,摊贩占道,五华区护国街道,{GY},{GX},2024/6/4 9:05,2024/6/4 9:10,2024/6/4 11:10,,处置中,五华区,,,",
    "A003,12345市长热线,,,占道经营,夜市占道,官渡区矣六街道,,,2024年6月5日 9时5分,2024年6月5日 9时6分,,,处置中,官渡区,,张三,13812345678",
    "A004,卫星遥感,事件,市容环境,私搭乱建（疑似新增）,疑似新增建筑,,116.404,39.915,45447.5,45447.5,,,处置中,昆明经开区,,,",
    f"A001,市级监督员,事件,宣传广告,非法小广告,重复行,,{GX},{GY},2024-06-03 09:00:00,2024-06-03 09:05:00,,,已结案,五华区,,,",
    f",市级监督员,事件,宣传广告,非法小广告,无编号,,{GX},{GY},2024-06-03 09:00:00,2024-06-03 09:05:00,,,已结案,五华区,,,",
    f"A005,无人机,事件,施工管理,施工占道,无立案时间,,{GX},{GY},2024-06-03 09:00:00,,,,已结案,西山区,,,",
    f"A006,市级监督员,部件,公用设施,无主井盖,井盖缺失,,{GX},{GY},2024-06-06 10:00:00,2024-06-06 10:01:00,2024-06-06 12:01:00,明天,处置中,盘龙区,,,",
    f"A007,神秘来源,事件,宣传广告,非法小广告,,,{GX},{GY},2024-05-31 10:00:00,2024-05-31 10:01:00,,,处置中,五华区,,,",
]
WGS = (102.7183, 25.0389)


def _csv(tmp_path, name, encoding, rows=ROWS, header=HEADER):
    p = tmp_path / name
    p.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return p


def _store(store):
    return pd.concat([pd.read_parquet(p) for p in sorted((store / "cases").glob("*.parquet"))], ignore_index=True)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig", "utf-8", "gb18030"])
def test_messy_csv_every_row_accounted(tmp_path, capsys, encoding):
    f = _csv(tmp_path, "export.csv", encoding)
    store = tmp_path / "store"
    assert main(["ingest", str(f), "--crs", "gcj02", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert "读取 9 行；入库 6 件；拒收 3 行" in out
    cases = _store(store)
    rejects = pd.read_csv(store / "rejects" / "export.csv", encoding="utf-8-sig", dtype=str)
    assert len(cases) + len(rejects) == len(ROWS)
    assert sorted(rejects["row"].astype(int)) == [6, 7, 8]  # header is row 1
    reasons = dict(zip(rejects["row"].astype(int), rejects["reason"]))
    assert reasons[6].startswith("案件编号重复（与第2行相同）")
    assert reasons[7].startswith("缺少案件编号")
    assert reasons[8].startswith("立案时间缺失或无法解析")
    # personal data never reaches the store or the rejects
    assert not {"来电人", "联系电话"} & (set(cases.columns) | set(rejects.columns))
    c = cases.set_index("case_id")
    # GCJ-02 → WGS-84 matches the published vector (1e-7 degrees ≈ 1 cm)
    assert c.loc["A001", ["lon", "lat"]].tolist() == pytest.approx(WGS, abs=1e-7)
    # swapped lat/lon is fixed and flagged
    assert c.loc["A002", ["lon", "lat"]].tolist() == pytest.approx(WGS, abs=1e-7)
    assert "坐标两轴互换" in c.loc["A002", "ingest_notes"]
    # a point in Beijing is not kept silently
    assert pd.isna(c.loc["A004", "lon"]) and "超出城市范围" in c.loc["A004", "ingest_notes"]
    assert c.loc["A004", "geocode_method"] == "none"
    # the three date forms and an Excel serial (45447.5 = 2024-06-04 12:00; serial 45292 is 2024-01-01)
    assert c.loc["A002", "registered_at"] == pd.Timestamp("2024-06-04 09:10")
    assert c.loc["A003", "registered_at"] == pd.Timestamp("2024-06-05 09:06")
    assert c.loc["A004", "registered_at"] == pd.Timestamp("2024-06-04 12:00")
    # a bad closing time keeps the case, null, with a note
    assert pd.isna(c.loc["A006", "closed_at"]) and "无法解析的结案时间" in c.loc["A006", "ingest_notes"]
    # sources by alias, platform from the source table, zones by alias, classes by alias
    assert c.loc["A002", "source"] == "区级监督员" and c.loc["A002", "platform"] == "区级"
    assert c.loc["A003", "source"] == "12345热线" and c.loc["A003", "platform"] == "市级"
    assert c.loc["A004", "area"] == "经开区"
    assert c.loc["A006", "minor"] == "不明井盖"
    assert c.loc["A007", "source"] == "其他" and "神秘来源" in c.loc["A007", "ingest_notes"]
    assert pd.isna(c.loc["A003", "kind"])
    # the platform's own street is kept; where missing it stays null for geocoding
    assert c.loc["A001", "street"] == "华山街道" and pd.isna(c.loc["A002", "street"])
    # cases are stored by month of registration
    assert sorted(p.stem for p in (store / "cases").glob("*.parquet")) == ["2024-05", "2024-06"]
    assert c.loc["A001", "is_key"] and not c.loc["A006", "is_key"]


def test_reingest_stores_nothing_twice(tmp_path, capsys):
    f = _csv(tmp_path, "export.csv", "gbk")
    store = tmp_path / "store"
    assert main(["ingest", str(f), "--crs", "gcj02", "--out", str(store)]) == 0
    capsys.readouterr()
    assert main(["ingest", str(f), "--crs", "gcj02", "--out", str(store)]) == 0
    out = capsys.readouterr().out
    assert "读取 9 行；入库 0 件；拒收 9 行" in out
    assert "案件编号已在库中" in out
    assert len(_store(store)) == 6
    rejects = pd.read_csv(store / "rejects" / "export.csv", encoding="utf-8-sig")
    assert len(rejects) == 9


def test_xlsx_with_datetimes_and_gauss_kruger(tmp_path):
    df = pd.DataFrame({
        "案件编号": ["X1", "X2"],
        "问题来源": ["市级监督员", "区级监督员"],
        "小类名称": ["暴露垃圾", "共享单车"],
        # Chinese survey convention: X = northing, Y = easting; X2 is given the other way round
        "X坐标": [2770555.569, 572490.830],
        "Y坐标": [572490.830, 2770555.569],
        "立案时间": [pd.Timestamp("2024-06-03 09:05"), 45447.375],
    })
    p = tmp_path / "export.xlsx"
    df.to_excel(p, index=False)
    store = tmp_path / "store"
    assert main(["ingest", str(p), "--crs", "EPSG:4543", "--out", str(store)]) == 0
    c = _store(store).set_index("case_id")
    for cid in ("X1", "X2"):
        assert c.loc[cid, ["lon", "lat"]].tolist() == pytest.approx(WGS, abs=1e-7)
    assert "坐标两轴互换" in c.loc["X1", "ingest_notes"] and pd.isna(c.loc["X2", "ingest_notes"])
    assert c.loc["X2", "registered_at"] == pd.Timestamp("2024-06-04 09:00")
    assert c.loc["X1", "kind"] == "事件" and c.loc["X1", "major"] == "市容环境"


def test_geojson_takes_the_file_crs(tmp_path):
    g = gpd.GeoDataFrame({"案件编号": ["G1"], "立案时间": ["2024-06-03 09:05:00"], "问题来源": ["视频"]},
                         geometry=[Point(WGS)], crs="EPSG:4326")
    p = tmp_path / "cases.geojson"
    g.to_file(p, driver="GeoJSON")
    store = tmp_path / "store"
    assert main(["ingest", str(p), "--out", str(store)]) == 0
    c = _store(store)
    assert c[["lon", "lat"]].iloc[0].tolist() == pytest.approx(WGS, abs=1e-9)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20, "binary data, not a text table"),
    ("编号,名称\n1,x\n".encode("gbk"), "no column for registered_at"),
    ("问题来源,小类名称\n市级监督员,暴露垃圾\n".encode(), "no column for case_id, registered_at"),
])
def test_unusable_inputs_exit_1_with_one_line(tmp_path, capsys, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    assert main(["ingest", str(p), "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_and_bad_crs(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "s")]) == 1
    assert "no such file" in capsys.readouterr().err
    f = _csv(tmp_path, "e.csv", "utf-8")
    assert main(["ingest", str(f), "--crs", "mars", "--out", str(tmp_path / "s")]) == 1
    assert "unknown coordinate system" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["ingest", str(f)])
    assert e.value.code == 2


def test_mapping_file_override(tmp_path):
    header = "工单ID,发生时间,诉求渠道"
    f = _csv(tmp_path, "m.csv", "utf-8", rows=["W1,2024-06-03 10:00:00,12345"], header=header)
    m = tmp_path / "map.csv"
    m.write_text("header,column\n工单ID,case_id\n发生时间,registered_at\n诉求渠道,source\n", encoding="utf-8")
    store = tmp_path / "s"
    assert main(["ingest", str(f), "--mapping", str(m), "--out", str(store)]) == 0
    c = _store(store)
    assert c["case_id"].tolist() == ["W1"] and c["source"].tolist() == ["12345热线"]


def test_parse_times_forms():
    s = pd.Series(["2024-06-03 09:05:00", "2024/6/3 9:05", "2024年6月3日 9时5分", "2024.06.03", "45446.25",
                   "2024-06-03T09:05:07", "", None, "not a date", "2024-13-40 10:00"])
    ts, bad = parse_times(s)
    assert ts.iloc[:6].tolist() == [pd.Timestamp(x) for x in ["2024-06-03 09:05", "2024-06-03 09:05", "2024-06-03 09:05",
                                                              "2024-06-03", "2024-06-03 06:00", "2024-06-03 09:05:07"]]
    assert bad.tolist() == [False] * 8 + [True, True]
    assert ts.iloc[6:].isna().all()
