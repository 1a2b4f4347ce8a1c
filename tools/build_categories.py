"""Rebuild data/categories.csv from the shared reference class list plus Kunming's local classes.

Usage: python tools/build_categories.py [REFERENCE_CSV] [OUT_CSV]

Rows agreed by two independent sources are taken first; where only one source has a code its name
is taken (components: A, then B; events: C, then B); a second name at the same code becomes an alias.
Scheme D and E rows use other numberings and are not mixed in. Classes the Kunming bulletin names that
no reference carries are added as local extensions (code_source = local). Weights default to 1.
Key-campaign membership and time limits are set by the rules below (documented assumptions: the
real Kunming limits are not public).
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "reference" / "categories_reference.csv"
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "data" / "categories.csv"

LOCAL = [  # kind, major, minor, code
    ("事件", "街面秩序", "占道经营", "0520"),
    ("事件", "街面秩序", "共享单车", "0521"),
    ("事件", "施工管理", "擅自架设管线杆线设施", "0320"),
    ("事件", "施工管理", "地面扬尘源", "0321"),
    ("事件", "市容环境", "私搭乱建（疑似新增）", "0150"),
]
# key campaigns (重点案件): which classes belong to which campaign
CAMPAIGNS = {
    "市容环境": {"非法小广告", "暴露垃圾", "占道经营", "店外经营", "积存垃圾渣土", "道路不洁", "绿地脏乱",
             "私搭乱建（疑似新增）", "乱堆物堆料", "共享单车", "废弃家具设施", "沿街晾挂", "街头散发广告",
             "违章张贴悬挂广告牌匾"},
    "水环境治理": {"水域不洁", "河堤破损", "下水道堵塞或破损", "水域秩序问题"},
    "大气污染防治": {"工地扬尘", "地面扬尘源", "焚烧树叶，垃圾", "油烟污染", "露天烧烤", "道路遗撒", "施工工地未围挡"},
}
# time limits: (value, unit); units are working_hours, working_days or hours (clock hours)
LIMITS = {
    "暴露垃圾": (4, "working_hours"), "占道经营": (2, "working_hours"), "共享单车": (2, "working_hours"),
    "非法小广告": (8, "working_hours"), "店外经营": (4, "working_hours"), "无照经营游商": (2, "working_hours"),
    "机动车乱停放": (2, "working_hours"), "非机动车乱停放": (2, "working_hours"),
    "私搭乱建（疑似新增）": (20, "working_days"), "私搭乱建": (20, "working_days"),
    "擅自架设管线杆线设施": (5, "working_days"), "地面扬尘源": (3, "working_days"),
    "路面塌陷": (4, "hours"), "自来水管破裂": (4, "hours"), "燃气管道破裂": (2, "hours"), "火灾": (1, "hours"),
}
WELL_COVER = re.compile("井盖|箅子")
PREFERRED = {"不明井盖"}  # the name the Kunming bulletin uses where the references disagree


def _alike(a: str, b: str) -> bool:
    """Two names share a two-character word (非法张贴小广告 ~ 非法小广告)."""
    return any(a[i : i + 2] in b for i in range(len(a) - 1))


def main() -> None:
    rows = list(csv.DictReader(REF.open(encoding="utf-8")))
    by_code: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        src = r["source"]
        if r["kind"] not in ("部件", "事件") or src.startswith(("D", "E")):
            continue
        sic = re.search(r"\(sic: ([^)]*)\)", r["minor_name"])
        r["minor_name"] = sic.group(1).strip() if sic else r["minor_name"].strip()
        by_code.setdefault((r["kind"], r["minor_code"]), []).append(r)
    out, seen = [], set()
    for (kind, code), group in sorted(by_code.items()):
        pref = ["agree", "A", "B"] if kind == "部件" else ["agree", "C", "B"]
        group.sort(key=lambda r: next((i for i, p in enumerate(pref) if p in r["source"]), 9))
        names = [g["minor_name"] for g in group if g["minor_name"] not in seen]
        names.sort(key=lambda n: n not in PREFERRED)
        if not names:
            continue
        if kind == "事件":  # event schemes disagree at some codes: keep only look-alike names as aliases
            names = names[:1] + [n for n in names[1:] if _alike(n, names[0])]
        seen.update(names)
        srcs = "+".join(sorted({s for g in group if g["minor_name"] in names
                                for s in re.findall(r"\b[ABC]\b", g["source"])}))
        out.append({"kind": kind, "major": group[0]["major_name"], "minor": names[0], "code": code,
                    "code_source": srcs, "aliases": "|".join(names[1:])})
    for kind, major, minor, code in LOCAL:
        out.append({"kind": kind, "major": major, "minor": minor, "code": code, "code_source": "local", "aliases": ""})
    for r in out:
        campaign = next((c for c, names in CAMPAIGNS.items() if r["minor"] in names), "")
        if r["kind"] == "部件":
            limit = (2, "hours") if WELL_COVER.search(r["minor"]) and "雨水" not in r["minor"] else (3, "working_days")
            if "雨水箅子" in r["minor"]:
                limit = (1, "working_days")
        else:
            limit = LIMITS.get(r["minor"], (1, "working_days"))
        r.update(weight="1.0", is_key="true" if campaign else "false", campaign=campaign,
                 time_limit=str(limit[0]), time_unit=limit[1])
    out.sort(key=lambda r: (r["kind"] != "部件", r["code"]))
    cols = ["kind", "major", "minor", "code", "code_source", "aliases", "weight", "is_key", "campaign",
            "time_limit", "time_unit"]
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(out)
    print(f"wrote {len(out)} classes to {OUT}")


if __name__ == "__main__":
    main()
