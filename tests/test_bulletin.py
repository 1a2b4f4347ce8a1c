"""The bulletin: the demo's June against the real bulletin, a hand-made store, formats, charts, edge inputs."""

import json

import numpy as np
import pandas as pd
import pytest

from gridgeo.cli import main
from gridgeo.io import write_month


@pytest.fixture(scope="module")
def june_bulletin(june_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("bulletin")
    assert main(["bulletin", str(june_store), "--month", "2024-06", "--out", str(out)]) == 0
    return out, json.loads((out / "bulletin" / "2024-06.json").read_text(encoding="utf-8"))


def p2(x):
    return round(100 * x, 2)


def test_june_json_equals_the_real_bulletin(june_bulletin):
    _, b = june_bulletin
    assert (b["registered"], b["closed"], b["closed_on_time"]) == (213025, 208690, 207034)
    assert (p2(b["closure_rate"]), p2(b["on_time_rate"])) == (97.97, 97.19)
    assert b["by_source"] == {"12345热线": 3125, "区级监督员": 150526, "卫星遥感": 266, "市级监督员": 56797,
                              "微信网站": 2262, "无人机": 3, "视频": 25, "鹰眼": 21}
    assert b["source_extremes"]["市级监督员"] == {"max_area": "五华区", "max": 13370, "min_area": "高新区", "min": 1121}
    assert b["source_extremes"]["区级监督员"] == {"max_area": "官渡区", "max": 45826, "min_area": "度假区", "min": 966}
    assert [(r["minor"], p2(r["share"])) for r in b["hotline"]["top_minor"][:2]] == [("占道经营", 73.89), ("店外经营", 9.38)]
    assert sum(b["other_sources"].values()) == 315
    plat = {k: (v["registered"], v["closed"], v["closed_on_time"]) for k, v in b["by_platform"].items()}
    assert plat == {"市级": (62446, 58615, 57614), "区级": (150579, 150075, 149420)}
    assert (p2(b["by_platform"]["市级"]["closure_rate"]), p2(b["by_platform"]["区级"]["on_time_rate"])) == (93.87, 99.23)
    assert b["by_kind"] == {"事件": 188500, "部件": 21400}
    top = {k: [(r["minor"], p2(r["share"])) for r in v[:2]] for k, v in b["top_minor"].items()}
    assert top == {"事件": [("非法小广告", 17.19), ("擅自架设管线杆线设施", 11.19)], "部件": [("雨水箅子", 8.90), ("不明井盖", 8.84)]}
    rows = [(r["area"], r["registered"], r["closed"], r["closed_on_time"], p2(r["closure_rate"]), p2(r["on_time_rate"]))
            for r in b["by_area"]]
    assert rows == [  # 全市网格案件结案情况, in the bulletin's order
        ("经开区", 12297, 12156, 11993, 98.85, 97.53), ("官渡区", 57758, 56867, 56553, 98.46, 97.91),
        ("盘龙区", 30024, 29550, 29116, 98.42, 96.98), ("高新区", 4351, 4263, 4245, 97.98, 97.56),
        ("五华区", 45910, 44902, 44824, 97.80, 97.63), ("呈贡区", 21411, 20894, 20726, 97.59, 96.80),
        ("度假区", 2139, 2079, 2062, 97.19, 96.40), ("西山区", 39135, 37979, 37515, 97.05, 95.86)]
    ae = b["area_extremes"]
    assert (ae["districts"]["max_area"], ae["districts"]["min_area"], ae["zones"]["max_area"], ae["zones"]["min_area"]) == \
        ("官渡区", "呈贡区", "经开区", "度假区")
    shares = {r["area"]: p2(r["share"]) for r in b["by_area"]}
    assert (shares["官渡区"], shares["呈贡区"], shares["经开区"], shares["度假区"]) == (27.11, 10.05, 5.77, 1.00)
    st = b["top_streets"]
    assert [(s["area"], s["street"]) for s in st[:2]] == [("官渡区", "矣六街道"), ("五华区", "黑林铺街道")]
    assert [(m["minor"], p2(m["share"])) for m in st[0]["top_minor"]] == [("非法小广告", 44.35), ("共享单车", 19.29)]
    assert [(m["minor"], p2(m["share"])) for m in st[1]["top_minor"]] == [("占道经营", 11.40), ("暴露垃圾", 8.78)]
    low = b["lowest_closure_streets"]
    assert [(s["street"], p2(s["closure_rate"])) for s in low[:2]] == [("马街街道", 92.40), ("黑林铺街道", 93.36)]
    kc = b["key_cases"]
    assert (kc["registered"], kc["closed"], p2(kc["share"]), p2(kc["closure_rate"])) == (103702, 100905, 48.68, 97.30)
    assert [(r["area"], p2(r["closure_rate"])) for r in kc["top_areas"]] == [("官渡区", 98.15), ("盘龙区", 97.76), ("五华区", 97.28)]
    assert [(r["minor"], p2(r["share"]), p2(r["closure_rate"])) for r in kc["top_minor"]] == [
        ("非法小广告", 29.91, 99.43), ("暴露垃圾", 17.28, 98.85), ("占道经营", 10.66, 99.53)]
    sp = kc["special"]
    assert (sp["registered"], p2(sp["share"]), sp["closed"], p2(sp["closure_rate"])) == (544, 0.52, 228, 41.91)
    t = b["technology"]
    assert (t["卫星遥感"]["registered"], t["卫星遥感"]["closed"]) == (266, 0)
    assert t["视频"]["by_area"] == {"官渡区": 3, "盘龙区": 22} and t["鹰眼"]["by_area"] == {"盘龙区": 21}
    assert t["无人机"]["by_area"] == {"西山区": 3} and all(t[s]["closed"] == t[s]["registered"] for s in ("视频", "鹰眼", "无人机"))
    gw = b["grid_workers"]
    assert gw["registered"] == 103081
    rate = {r["area"]: p2(r["closure_rate"]) for r in gw["by_area"]}
    assert rate == {"五华区": 100.0, "盘龙区": 99.0, "官渡区": 99.0, "西山区": 98.0, "呈贡区": 99.0, "高新区": 99.0,
                    "经开区": 99.0, "度假区": 97.0}
    reg = sorted(((r["registered"], r["area"]) for r in gw["by_area"]), reverse=True)[:3]
    assert reg == [(23440, "官渡区"), (22890, "五华区"), (18475, "西山区")]


def test_june_text_reads_like_the_bulletin(june_bulletin):
    out, _ = june_bulletin
    md = (out / "bulletin" / "2024-06.md").read_text(encoding="utf-8")
    for sentence in [
        "6月，市区两级网格化管理平台共立案213025件。",
        "①市级监督员上报并立案56797件，占立案总量的26.66%。案件量最多的区是五华区，为13370件；案件量最少的区是高新区，为1121件。",
        "②区级监督员上报并立案150526件，占立案总量的70.66%。案件量最多的区是官渡区，为45826件；案件量最少的区是度假区，为966件。",
        "④其他来源案件315件。其中，卫星遥感案件266件，视频上报案件25件，鹰眼上报案件21件，无人机巡查上报案件3件。",
        "主城五区案件量最多的是官渡区，为57758件，占案件总量的27.11%；案件量最少的是呈贡区，为21411件，占案件总量的10.05%。",
        "案件量较多的街道是官渡区矣六街道和五华区黑林铺街道。",
        "6月，市区两级网格化管理平台结案208690件，结案率97.97%；按期结案207034件，按期结案率97.19%。",
        "结案率较高的三个区是官渡区、盘龙区和五华区，分别为98.15%、97.76%和97.28%。",
        "此外，私搭乱建（疑似新增）类案件立案544件，占重点案件立案总数的0.52%；结案228件，结案率41.91%。",
        "街道案件结案率较低的是马街街道和黑林铺街道，结案率分别为92.40%和93.36%。",
        "各区网格员案件结案率为：五华区为100.00%，盘龙区、官渡区、呈贡区、高新区和经开区为99.00%，西山区为98.00%，度假区为97.00%。",
    ]:
        assert sentence in md, sentence
    order = ["一、城市网格化管理考核情况", "（一）监督巡查情况", "2.市级再监督情况", "（二）案件处置情况", "2.重点案件处置结案情况",
             "3.科技助力案件处置结案情况", "4.街道案件处置结案情况", "（三）基层网格作用发挥", "（四）“吹哨报到”",
             "（五）“接诉即办”", "（六）卫星遥感监测体系运行情况"]
    pos = [md.index(h) for h in order]
    assert pos == sorted(pos)


def test_docx_is_a4_with_official_fonts_tables_and_charts(june_bulletin):
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm

    out, b = june_bulletin
    doc = Document(str(out / "bulletin" / "2024-06.docx"))
    sec = doc.sections[0]
    assert abs(sec.page_width - Cm(21.0)) < Cm(0.01) and abs(sec.page_height - Cm(29.7)) < Cm(0.01)
    fonts = {r._element.rPr.rFonts.get(qn("w:eastAsia")) for p in doc.paragraphs for r in p.runs
             if r._element.rPr is not None and r._element.rPr.rFonts is not None}
    assert {"黑体", "仿宋"} <= fonts
    heading = next(p for p in doc.paragraphs if p.text == "一、城市网格化管理考核情况")
    assert heading.runs[0]._element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    closure = next(t for t in doc.tables if [c.text for c in t.rows[0].cells[:3]] == ["区属", "立案数", "结案数"]
                   and len(t.columns) == 6)
    assert [c.text for c in closure.rows[-1].cells] == ["合计", "213025", "208690", "207034", "97.97%", "97.19%"]
    assert len(doc.inline_shapes) == 5  # the five charts


def test_html_is_standalone_and_escaped(june_bulletin):
    out, _ = june_bulletin
    html = (out / "bulletin" / "2024-06.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in html
    assert html.count("data:image/png;base64,") == 5 and "http" not in html.replace("http-equiv", "")
    assert "<table>" in html and "<caption>全市网格案件结案情况</caption>" in html


def test_chart_glyphs_are_in_the_font_used(june_bulletin):
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from gridgeo.bulletin.charts import chart_specs, cjk_font_path

    _, b = june_bulletin
    path = cjk_font_path()
    prop = font_manager.FontProperties(fname=str(path))
    assert font_manager.findfont(prop) == str(path)
    charmap = FT2Font(str(path)).get_charmap()
    text = "".join(t + "".join(labels) + unit for t, labels, _, unit, _ in chart_specs(b).values())
    missing = {ch for ch in text if ord(ch) not in charmap}
    assert not missing and "矣" in text and "箅" in text


def _case(i, area, street, minor, kind, source, platform, reg, deadline, closed, key=False, gw=False):
    return {"case_id": f"T{i:03d}", "area": area, "street": street, "minor": minor, "kind": kind, "source": source,
            "platform": platform, "registered_at": pd.Timestamp(reg), "deadline": pd.Timestamp(deadline),
            "closed_at": pd.Timestamp(closed) if closed else pd.NaT, "is_key": key, "handled_by_grid_worker": gw,
            "lon": np.nan, "lat": np.nan, "weight": 1.0}


def test_hand_made_store(tmp_path):
    """Eight cases whose answers are counted by hand below."""
    rows = [
        _case(1, "五华区", "华山街道", "暴露垃圾", "事件", "市级监督员", "市级", "2024-03-01 10:00", "2024-03-01 14:00", "2024-03-01 11:00", key=True, gw=True),
        _case(2, "五华区", "华山街道", "暴露垃圾", "事件", "区级监督员", "区级", "2024-03-02 10:00", "2024-03-02 14:00", "2024-03-02 15:00", key=True),
        _case(3, "五华区", "护国街道", "雨水箅子", "部件", "区级监督员", "区级", "2024-03-03 10:00", "2024-03-05 10:00", None),
        _case(4, "盘龙区", "拓东街道", "非法小广告", "事件", "12345热线", "市级", "2024-03-04 10:00", "2024-03-04 18:00", "2024-03-04 12:00", key=True),
        _case(5, "盘龙区", "拓东街道", "非法小广告", "事件", "区级监督员", "区级", "2024-03-05 10:00", "2024-04-02 10:00", None, key=True),
        _case(6, "高新区", "马金铺街道", "占道经营", "事件", "市级监督员", "市级", "2024-03-06 10:00", "2024-03-06 12:00", "2024-03-06 11:00", gw=True),
        _case(7, "高新区", "马金铺街道", "占道经营", "事件", "卫星遥感", "市级", "2024-03-07 10:00", "2024-03-08 10:00", None),
        _case(8, "五华区", "华山街道", "暴露垃圾", "事件", "市级监督员", "市级", "2024-02-20 10:00", "2024-02-20 14:00", "2024-02-20 11:00"),
    ]
    df = pd.DataFrame(rows)
    df["status"] = "已结案"
    df.loc[df["case_id"] == "T007", "status"] = "作废"  # a void case is not assessed
    store = tmp_path / "store"
    for m, part in df.groupby(df["registered_at"].dt.strftime("%Y-%m")):
        write_month(store, m, part)
    assert main(["bulletin", str(store), "--month", "2024-03", "--out", str(tmp_path), "--format", "json,md"]) == 0
    b = json.loads((tmp_path / "bulletin" / "2024-03.json").read_text(encoding="utf-8"))
    # T1..T6 assessed; closed: T1, T2, T4, T6; on time: T1, T4, T6 (T2 closed after its deadline)
    assert (b["registered"], b["closed"], b["closed_on_time"], b["void_excluded"]) == (6, 4, 3, 1)
    assert b["closure_rate"] == pytest.approx(4 / 6) and b["on_time_rate"] == pytest.approx(3 / 6)
    area = {r["area"]: (r["registered"], r["closed"], r["closed_on_time"]) for r in b["by_area"]}
    assert area["五华区"] == (3, 2, 1) and area["盘龙区"] == (2, 1, 1) and area["高新区"] == (1, 1, 1)
    assert area["西山区"] == (0, 0, 0)
    assert next(r for r in b["by_area"] if r["area"] == "西山区")["closure_rate"] is None
    assert b["by_platform"]["市级"]["registered"] == 3 and b["by_platform"]["区级"]["closed"] == 1
    assert b["key_cases"]["registered"] == 4 and b["key_cases"]["closed"] == 3
    assert b["top_streets"][0] == {"street": "华山街道", "area": "五华区", "registered": 2,
                                   "top_minor": [{"minor": "暴露垃圾", "share": 1.0}]}
    assert [s["street"] for s in b["lowest_closure_streets"][:2]] == ["护国街道", "拓东街道"]
    assert b["grid_workers"]["registered"] == 2
    assert b["month_on_month"]["registered"] == {"previous": 1, "change": 5, "change_rate": 5.0}
    # the alternative denominator: cases due in March (deadline before 1 April) are T1, T2, T3, T4, T6
    assert main(["bulletin", str(store), "--month", "2024-03", "--out", str(tmp_path / "due"), "--format", "json",
                 "--denominator", "due"]) == 0
    d = json.loads((tmp_path / "due" / "bulletin" / "2024-03.json").read_text(encoding="utf-8"))
    assert d["due"] == 5 and d["closure_rate"] == pytest.approx(4 / 5)
    md = (tmp_path / "bulletin" / "2024-03.md").read_text(encoding="utf-8")
    assert "| 西山区 | 0 | 0 | 0 | — | — |" in md


def test_edge_inputs_render(tmp_path, capsys):
    store = tmp_path / "store"
    # a store with only two columns
    write_month(store, "2024-05", pd.DataFrame({"case_id": ["A", "B"], "registered_at": pd.to_datetime(["2024-05-02", "2024-05-03"])}))
    assert main(["bulletin", str(store), "--month", "2024-05", "--out", str(tmp_path)]) == 0
    md = (tmp_path / "bulletin" / "2024-05.md").read_text(encoding="utf-8")
    assert "共立案2件" in md and "案件无街道信息" in md and "—" in md
    # an empty month
    assert main(["bulletin", str(store), "--month", "2024-07", "--out", str(tmp_path)]) == 0
    b = json.loads((tmp_path / "bulletin" / "2024-07.json").read_text(encoding="utf-8"))
    assert b["registered"] == 0 and b["closure_rate"] is None and any("没有2024-07的案件" in n for n in b["notes"])
    assert (tmp_path / "bulletin" / "2024-07.docx").stat().st_size > 0
    capsys.readouterr()
    assert main(["bulletin", str(store), "--month", "June", "--out", str(tmp_path)]) == 1
    assert "is not a month" in capsys.readouterr().err
    assert main(["bulletin", str(tmp_path / "nope"), "--month", "2024-06", "--out", str(tmp_path)]) == 1
    assert main(["bulletin", str(store), "--month", "2024-05", "--out", str(tmp_path), "--format", "pdf"]) == 1
    assert "unknown format" in capsys.readouterr().err


def test_score_table(tmp_path, june_store):
    scores = tmp_path / "scores.csv"
    scores.write_text("区属,得分\n五华区,92.92\n西山区,88.89\n", encoding="utf-8-sig")
    assert main(["bulletin", str(june_store), "--month", "2024-06", "--out", str(tmp_path), "--format", "md",
                 "--scores", str(scores)]) == 0
    md = (tmp_path / "bulletin" / "2024-06.md").read_text(encoding="utf-8")
    assert "6月份城市网格化管理考核成绩得分情况：五华区92.92分，西山区88.89分。" in md
    bad = tmp_path / "bad.csv"
    bad.write_text("区属,得分\n五华区,高\n", encoding="utf-8")
    assert main(["bulletin", str(june_store), "--month", "2024-06", "--out", str(tmp_path), "--scores", str(bad)]) == 1
