"""The bulletin as a sequence of blocks (headings, paragraphs, tables, charts, notes) in the original's order.

Markdown, HTML and Word are all rendered from these blocks, so the wording lives in one place. The
phrasing follows the Kunming bulletin (e.g. "案件量最多的区是…，为…件"); a figure that cannot be
computed prints as "—" with a note saying what data it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["Block", "build_blocks", "fmt_pct", "fmt_int"]

DASH = "—"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"


@dataclass(frozen=True)
class Block:
    kind: str  # title, subtitle, h2, h3, h4, p, note, table, chart
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def fmt_pct(x: float | None) -> str:
    return DASH if x is None else f"{100 * x:.2f}%"


def fmt_int(x: float | None) -> str:
    return DASH if x is None else f"{int(x)}"


def _join(items: list[str]) -> str:
    """A、B和C"""
    if not items:
        return DASH
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + "和" + items[-1]


def _month_cn(month: str) -> tuple[int, int]:
    p = pd.Period(month, "M")
    return p.year, p.month


def build_blocks(b: dict[str, Any], *, city: str, charts: set[str]) -> list[Block]:
    """The bulletin of indicators ``b`` as blocks; ``charts`` names the charts that were rendered."""
    year, mon = _month_cn(b["month"])
    out: list[Block] = [Block("title", f"{city}城市网格化管理工作通报"), Block("subtitle", f"（{year}年{mon}月）")]
    add = out.append
    reg = b["registered"]

    add(Block("h2", "一、城市网格化管理考核情况"))
    if b.get("scores"):
        add(Block("p", f"{mon}月份城市网格化管理考核成绩得分情况："
                  + "，".join(f"{s['area']}{s['score']:.2f}分" for s in b["scores"]) + "。"))
    else:
        add(Block("note", "考核得分由不公开的考核指标体系计算，本通报不推算得分；如有得分表，可用 --scores 提供。"
                  "下表列出得分所依据的案件指标。"))
    dp = {r["area"]: r for r in b.get("district_platform", [])}
    add(Block("table", "各区考核相关案件指标", ("区属", "立案数", "结案率", "按期结案率", "重点案件结案率", "区级平台按时派遣率"),
              tuple((r["area"], fmt_int(r["registered"]), fmt_pct(r["closure_rate"]), fmt_pct(r["on_time_rate"]),
                     fmt_pct(dp.get(r["area"], {}).get("key_closure_rate")),
                     fmt_pct(dp.get(r["area"], {}).get("dispatch_on_time_rate"))) for r in b.get("by_area", []))))

    add(Block("h2", "二、城市网格化管理工作运行情况"))
    add(Block("h3", "（一）监督巡查情况"))
    add(Block("p", f"{mon}月，市区两级网格化管理平台共立案{reg}件。"))
    if b.get("void_excluded"):
        add(Block("note", f"另有{b['void_excluded']}件作废案件，不计入立案总量。"))
    add(Block("h4", "1.网格案件上报和受理情况"))
    add(Block("p", "（1）按案件来源统计"))
    src = b["by_source"]
    for i, s in enumerate(("市级监督员", "区级监督员")):
        n = src.get(s, 0)
        ex = b.get("source_extremes", {}).get(s)
        text = f"{CIRCLED[i]}{s}上报并立案{n}件，占立案总量的{fmt_pct(n / reg if reg else None)}。"
        if ex:
            text += f"案件量最多的区是{ex['max_area']}，为{ex['max']}件；案件量最少的区是{ex['min_area']}，为{ex['min']}件。"
        add(Block("p", text))
    hot = b.get("hotline", {})
    text = f"③12345市长热线转办“接诉即办”案件{hot.get('registered', 0)}件。"
    tops = hot.get("top_minor", [])[:2]
    if tops:
        text += "其中，" + "，".join(f"{r['minor']}类案件占“接诉即办”案件总量的{fmt_pct(r['share'])}" for r in tops) + "。"
    text += f"受理微信、网站举报等来源案件{src.get('微信网站', 0)}件。"
    add(Block("p", text))
    other = b.get("other_sources", {})
    names = {"卫星遥感": "卫星遥感案件", "视频": "视频上报案件", "鹰眼": "鹰眼上报案件", "无人机": "无人机巡查上报案件", "其他": "其他案件"}
    parts = [f"{names[k]}{v}件" for k, v in other.items() if v]
    add(Block("p", f"④其他来源案件{sum(other.values())}件。" + (f"其中，{'，'.join(parts)}。" if parts else "")))

    add(Block("p", "（2）按案件类别统计"))
    for i, (kind, label, chart) in enumerate((("事件", "事件类", "event_top10"), ("部件", "部件类", "component_top10"))):
        rows = b.get("top_minor", {}).get(kind, [])
        text = f"{CIRCLED[i]}市区两级网格化管理平台共立案{label}案件{b['by_kind'].get(kind, 0)}件"
        if len(rows) >= 2:
            a, c = rows[0], rows[1]
            text += (f"，案件量（折算为基本案件数）较多的小类是{a['minor']}和{c['minor']}。其中，{a['minor']}占{label}案件总量的"
                     f"{fmt_pct(a['share'])}，{c['minor']}占{label}案件总量的{fmt_pct(c['share'])}。")
        else:
            text += "。"
        add(Block("p", text))
        if chart in charts:
            add(Block("chart", chart))
            add(Block("table", f"{kind}小类案件量基本案件数排名前十", ("序号", "小类", "基本案件数", f"占{label}案件比例"),
                      tuple((str(j + 1), r["minor"], f"{r['weighted']:.0f}", fmt_pct(r["share"])) for j, r in enumerate(rows))))

    add(Block("p", "（3）按区域统计"))
    ae = b.get("area_extremes", {})
    by_area = {r["area"]: r for r in b.get("by_area", [])}
    texts = []
    for key, label in (("districts", "主城五区"), ("zones", "三个开发（度假）区")):
        ex = ae.get(key)
        if ex:
            texts.append(f"{label}案件量最多的是{ex['max_area']}，为{ex['max']}件，占案件总量的{fmt_pct(by_area[ex['max_area']]['share'])}；"
                         f"案件量最少的是{ex['min_area']}，为{ex['min']}件，占案件总量的{fmt_pct(by_area[ex['min_area']]['share'])}。")
    add(Block("p", "".join(texts)) if texts else Block("note", "案件无区属信息，无法按区域统计。"))

    add(Block("p", "（4）按街道统计"))
    ts = b.get("top_streets", [])
    if len(ts) >= 2:
        lead = ts[:2]
        text = f"案件量较多的街道是{lead[0]['area'] or ''}{lead[0]['street']}和{lead[1]['area'] or ''}{lead[1]['street']}。其中，"
        pieces = []
        for s in lead:
            tm = s["top_minor"]
            if len(tm) >= 2:
                pieces.append(f"{s['street']}较为突出的问题是{tm[0]['minor']}和{tm[1]['minor']}，分别占该街道案件总量的"
                              f"{fmt_pct(tm[0]['share'])}和{fmt_pct(tm[1]['share'])}")
        add(Block("p", text + "；".join(pieces) + "。"))
        if "street_top10" in charts:
            add(Block("chart", "street_top10"))
        add(Block("table", "主城八区案件量排名前十位的街道", ("序号", "区属", "街道", "案件数", "突出问题"),
                  tuple((str(i + 1), s["area"] or DASH, s["street"], str(s["registered"]),
                         "、".join(f"{m['minor']}({fmt_pct(m['share'])})" for m in s["top_minor"])) for i, s in enumerate(ts))))
    else:
        add(Block("note", "案件无街道信息：按街道统计需先完成地理编码（gridgeo geocode / hotspots）。"))

    add(Block("h4", "2.市级再监督情况"))
    if b.get("omissions"):
        add(Block("table", "区级监督员上报案件漏报情况", tuple(b["omissions"]["header"]), tuple(map(tuple, b["omissions"]["rows"]))))
    else:
        add(Block("note", "漏报考核需要市级再监督的比对结果（同类、相近时空的市、区两级上报配对）或导出中的漏报字段；"
                  "本月数据未包含，此节从略。得分公式不公开，本工具只计算漏报件数。"))

    add(Block("h3", "（二）案件处置情况"))
    add(Block("h4", "1.市区两级平台案件处置结案情况"))
    text = (f"{mon}月，市区两级网格化管理平台结案{b['closed']}件，结案率{fmt_pct(b['closure_rate'])}；"
            f"按期结案{b['closed_on_time']}件，按期结案率{fmt_pct(b['on_time_rate'])}。")
    plat = b.get("by_platform", {})
    parts = [f"{p}平台立案{v['registered']}件，结案{v['closed']}件，结案率{fmt_pct(v['closure_rate'])}；按期结案{v['closed_on_time']}件，"
             f"按期结案率{fmt_pct(v['on_time_rate'])}" for p, v in plat.items()]
    if parts:
        text += "其中，" + "。".join(parts) + "。"
    add(Block("p", text))
    total_row = ("合计", str(reg), str(b["closed"]), str(b["closed_on_time"]), fmt_pct(b["closure_rate"]), fmt_pct(b["on_time_rate"]))
    add(Block("table", "全市网格案件结案情况", ("区属", "立案数", "结案数", "按期结案数", "结案率", "按期结案率"),
              tuple((r["area"], str(r["registered"]), str(r["closed"]), str(r["closed_on_time"]), fmt_pct(r["closure_rate"]),
                     fmt_pct(r["on_time_rate"])) for r in b.get("by_area", [])) + (total_row,)))
    add(Block("table", "区级平台网格案件处置结案情况",
              ("区属", "区级平台按时派遣率", "市级监督员案件结案率", "区级平台案件结案率", "市区两级平台重点案件结案率",
               "市区两级平台常规案件结案率"),
              tuple((r["area"], fmt_pct(r["dispatch_on_time_rate"]), fmt_pct(r["city_inspector_closure_rate"]),
                     fmt_pct(r["district_platform_closure_rate"]), fmt_pct(r["key_closure_rate"]),
                     fmt_pct(r["regular_closure_rate"])) for r in b.get("district_platform", []))))

    add(Block("h4", "2.重点案件处置结案情况"))
    kc = b["key_cases"]
    text = (f"在市区两级网格化管理平台立案案件中，市容环境、水环境治理、大气污染防治等重点案件共立案{kc['registered']}件，"
            f"占案件总量的{fmt_pct(kc['share'])}，结案{kc['closed']}件，结案率{fmt_pct(kc['closure_rate'])}。")
    top = kc.get("top_areas", [])
    if top:
        text += (f"结案率较高的{'三' if len(top) == 3 else len(top)}个区是{_join([r['area'] for r in top])}，"
                 f"分别为{_join([fmt_pct(r['closure_rate']) for r in top])}。")
    add(Block("p", text))
    tm = kc.get("top_minor", [])
    if tm:
        text = (f"案件量较多的小类是{_join([r['minor'] for r in tm])}，分别占重点案件立案总数的{_join([fmt_pct(r['share']) for r in tm])}，"
                f"结案率分别是{_join([fmt_pct(r['closure_rate']) for r in tm])}。")
        sp = kc.get("special")
        if sp and sp["registered"]:
            text += (f"此外，{sp['minor']}类案件立案{sp['registered']}件，占重点案件立案总数的{fmt_pct(sp['share'])}；"
                     f"结案{sp['closed']}件，结案率{fmt_pct(sp['closure_rate'])}。")
        add(Block("p", text))
    if "key_by_area" in charts:
        add(Block("chart", "key_by_area"))

    add(Block("h4", "3.科技助力案件处置结案情况"))
    tech = b.get("technology", {})
    sat = tech.get("卫星遥感", {"registered": 0, "closed": 0})
    text = f"市级卫星遥感案件共立案{sat['registered']}件，" + ("正在处置中。" if sat["registered"] and not sat["closed"]
                                                     else f"结案{sat['closed']}件。")
    per_area: dict[str, list[str]] = {}
    for s, label in (("视频", "视频"), ("鹰眼", "鹰眼"), ("无人机", "无人机巡查")):
        for a, n in tech.get(s, {}).get("by_area", {}).items():
            per_area.setdefault(a, []).append(f"{label}案件{n}件")
    parts = [f"{a}上报{'、'.join(v)}" for a, v in per_area.items()]
    if parts:
        text += "；".join(parts) + "。"
        others = [tech[s] for s in ("视频", "鹰眼", "无人机") if s in tech]
        if others and all(t["closed"] == t["registered"] for t in others):
            text += "上述案件均已全部处置结案。"
        else:
            text += f"上述案件结案{sum(t['closed'] for t in others)}件。"
    add(Block("p", text))

    add(Block("h4", "4.街道案件处置结案情况"))
    low = b.get("lowest_closure_streets", [])
    if len(low) >= 2:
        add(Block("p", f"街道案件结案率较低的是{low[0]['street']}和{low[1]['street']}，结案率分别为"
                  f"{fmt_pct(low[0]['closure_rate'])}和{fmt_pct(low[1]['closure_rate'])}。"))
        if "lowest_closure_streets" in charts:
            add(Block("chart", "lowest_closure_streets"))
    else:
        add(Block("note", "案件无街道信息，无法统计街道结案率。"))

    add(Block("h3", "（三）基层网格作用发挥"))
    gw = b.get("grid_workers", {})
    rows = sorted([r for r in gw.get("by_area", []) if r["registered"]], key=lambda r: -r["registered"])
    if gw.get("registered"):
        text = (f"在市区两级网格化管理平台立案案件中，共有{gw['registered']}件案件应由环卫网格员、城管网格员处置，"
                f"案件较多的区是{_join([r['area'] for r in rows[:3]])}，分别是{_join([str(r['registered']) + '件' for r in rows[:3]])}。")
        groups: dict[str, list[str]] = {}
        for r in gw["by_area"]:
            if r["registered"]:
                groups.setdefault(fmt_pct(r["closure_rate"]), []).append(r["area"])
        text += "各区网格员案件结案率为：" + "，".join(f"{_join(v)}为{k}" for k, v in
                                             sorted(groups.items(), key=lambda kv: -float(kv[0].rstrip('%')))) + "。"
        add(Block("p", text))
    else:
        add(Block("note", "导出中没有“网格员处置”标记，此节从略。"))

    add(Block("h3", "（四）“吹哨报到”工作机制运行情况"))
    add(Block("note", "吹哨报到记录不在案件导出中；提供吹哨记录后可统计区级哨、街道哨、社区哨次数。"))

    add(Block("h3", "（五）“接诉即办”快速响应机制运行情况"))
    hr = b.get("hotline_response", {})
    rows = [r for r in hr.get("by_area", []) if r["due"]]
    if rows:
        hi = max(rows, key=lambda r: r["due"])
        lo = min(rows, key=lambda r: r["due"])

        def outcome(r):
            if not hr.get("outcomes"):
                return ""
            names = {"responded": "响应率", "disposed": "处置率", "satisfied": "服务满意率"}
            return "，" + "，".join(f"{names[o]}{fmt_pct(r.get(o + '_rate'))}" for o in hr["outcomes"])

        add(Block("p", f"{mon}月，“接诉即办”累计应处置案件{hr['due']}件。案件量最多的区是{hi['area']}，为{hi['due']}件{outcome(hi)}；"
                  f"最少的区是{lo['area']}，为{lo['due']}件{outcome(lo)}。"))
    else:
        add(Block("note", "本月没有应处置的12345热线案件。"))

    add(Block("h3", "（六）卫星遥感监测体系运行情况"))
    s = b.get("satellite", {})
    if s.get("registered") or s.get("to_dispatch"):
        text = (f"{mon}月，卫星遥感图斑案件应派遣{s['to_dispatch']}件，按时派遣{s['dispatched_on_time']}件，"
                f"按时派遣率{fmt_pct(s['dispatch_on_time_rate'])}。应处置结案{s['due']}件，")
        text += "均已按期处置完成。" if s["due"] and s["due_closed_on_time"] == s["due"] else f"按期处置完成{s['due_closed_on_time']}件。"
        rw = s.get("rework_by_area", {})
        text += ("除" + _join(list(rw)) + "外，其他区均无返工案件。") if rw else "各区均无返工案件。"
        add(Block("p", text))
        add(Block("note", "按案件统计；图斑的监测编号与前后时相需卫星图斑数据（gridgeo patches，后续阶段）。"))
    else:
        add(Block("note", "本月没有卫星遥感案件。"))

    add(Block("h3", "（七）专项工作情况"))
    add(Block("note", "当月的专项事项（如社会事务移交期间积压案件的处置）无法从案件字段识别，需人工补充；"
              "可在导出中加标记列后按本通报的统计方式计算。"))

    add(Block("h2", "三、环比与热点（原通报之外）"))
    mom = b.get("month_on_month")
    if mom:
        names = {"registered": "立案数", "closed": "结案数", "closed_on_time": "按期结案数", "closure_rate": "结案率",
                 "on_time_rate": "按期结案率"}
        rows = []
        for k, label in names.items():
            v = mom[k]
            cur = b[k]
            if k.endswith("rate"):
                rows.append((label, fmt_pct(cur), fmt_pct(v["previous"]),
                             DASH if v["change"] is None else f"{100 * v['change']:+.2f}个百分点"))
            else:
                rows.append((label, str(cur), str(v["previous"]), DASH if v["change_rate"] is None else f"{100 * v['change_rate']:+.2f}%"))
        add(Block("table", f"主要指标环比（与{mom['previous_month']}比较）", ("指标", "本月", "上月", "环比"), tuple(rows)))
    else:
        add(Block("note", "库中没有上月数据，不计算环比。"))
    hs = b.get("hotspots")
    if hs:
        add(Block("table", "各区热点概况", ("区属", "聚类数", "显著热点网格数"),
                  tuple((r["area"], str(r["clusters"]), str(r["hot_cells"])) for r in hs["by_area"])))
    else:
        add(Block("note", "热点分析尚未运行（gridgeo hotspots），此处不列热点概况。"))
    for n in b.get("notes", []):
        add(Block("note", n))
    return out
