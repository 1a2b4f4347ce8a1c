"""The monthly indicators of the bulletin, computed from the case rows (pure; JSON-ready dicts).

Every rate is a fraction (0–1) or ``None`` where its denominator is zero. The denominator of the
closure rates is documented per key in ``data/bulletin-schema.md``: by default the cases registered
in the month (Kunming's rule); ``denominator="due"`` divides by the cases due in the month (应结案数:
deadline before the month's end) instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["compute_indicators", "DENOMINATORS"]

DENOMINATORS = ("registered", "due")
VOID = "作废"
TECH = ["卫星遥感", "视频", "鹰眼", "无人机"]


def _rate(num: float, den: float) -> float | None:
    return None if not den else float(num) / float(den)


def _month_end(month: str) -> pd.Timestamp:
    return (pd.Period(month, "M") + 1).start_time


def prepare(cases: pd.DataFrame, month: str) -> pd.DataFrame:
    """The month's assessed cases with derived flags: void cases removed, closed / on time / due added."""
    d = pd.DataFrame(cases.drop(columns="geometry", errors="ignore"))
    if "registered_at" in d and len(d):
        d = d[d["registered_at"].dt.strftime("%Y-%m") == month]
    if "status" in d:
        d = d[d["status"].fillna("") != VOID]
    d = d.copy()
    end = _month_end(month)
    closed_at = d["closed_at"] if "closed_at" in d else pd.Series(pd.NaT, index=d.index)
    deadline = d["deadline"] if "deadline" in d else pd.Series(pd.NaT, index=d.index)
    d["closed"] = closed_at.notna()
    d["on_time"] = d["closed"] & deadline.notna() & (closed_at <= deadline)
    d["due"] = deadline.notna() & (deadline < end)
    for c, default in (("is_key", False), ("handled_by_grid_worker", False), ("weight", 1.0)):
        if c not in d:
            d[c] = default
    return d


def _counts(d: pd.DataFrame, denominator: str) -> dict[str, Any]:
    reg, closed, ont = len(d), int(d["closed"].sum()), int(d["on_time"].sum())
    den = reg if denominator == "registered" else int(d["due"].sum())
    return {"registered": reg, "closed": closed, "closed_on_time": ont,
            "closure_rate": _rate(closed, den), "on_time_rate": _rate(ont, den),
            **({"due": int(d["due"].sum())} if denominator == "due" else {})}


def _extremes(counts: pd.Series) -> dict[str, Any] | None:
    counts = counts[counts > 0]
    if counts.empty:
        return None
    return {"max_area": str(counts.idxmax()), "max": int(counts.max()),
            "min_area": str(counts.idxmin()), "min": int(counts.min())}


def _top_minor(d: pd.DataFrame, n: int = 10) -> list[dict[str, Any]]:
    w = d.groupby("minor", sort=True)["weight"].sum().sort_values(ascending=False, kind="stable")
    total = w.sum()
    return [{"minor": str(m), "weighted": float(v), "share": _rate(v, total)} for m, v in w.iloc[:n].items()]


def _area_rows(d: pd.DataFrame, areas: list[str], denominator: str) -> list[dict[str, Any]]:
    rows = [{"area": a, **_counts(d[d["area"] == a], denominator)} for a in areas]
    return sorted(rows, key=lambda r: -1 if r["closure_rate"] is None else -r["closure_rate"])


def compute_indicators(
    cases: pd.DataFrame,
    *,
    month: str,
    areas: list[str],
    zones: list[str],
    denominator: str = "registered",
    previous: pd.DataFrame | None = None,
    scores: dict[str, float] | None = None,
    hotspots: dict[str, Any] | None = None,
    top_n: int = 10,
) -> dict[str, Any]:
    """All indicators of one month's bulletin as a JSON-ready dict (keys in data/bulletin-schema.md)."""
    if denominator not in DENOMINATORS:
        raise ValueError(f"denominator must be one of {DENOMINATORS}, got {denominator!r}")
    d = prepare(cases, month)
    notes: list[str] = []
    n_void = 0
    if "status" in cases:
        in_month = cases["registered_at"].dt.strftime("%Y-%m") == month if len(cases) else pd.Series([], dtype=bool)
        n_void = int((cases.loc[in_month, "status"].fillna("") == VOID).sum()) if len(cases) else 0
    if n_void:
        notes.append(f"{n_void}件作废案件不计入考核。")
    has = {c: c in d.columns and d[c].notna().any() for c in
           ("source", "platform", "kind", "minor", "area", "street", "deadline", "dispatched_at", "dispatch_deadline")}
    out: dict[str, Any] = {"month": month, "denominator": denominator, **_counts(d, denominator)}
    out["void_excluded"] = n_void
    src = d["source"].fillna("其他") if has["source"] else pd.Series("其他", index=d.index)
    area = d["area"] if has["area"] else pd.Series(pd.NA, index=d.index, dtype="string")
    out["by_source"] = {str(k): int(v) for k, v in src.value_counts().sort_index().items()}
    out["source_extremes"] = {s: _extremes(d[src == s].groupby(area[src == s]).size())
                              for s in ("市级监督员", "区级监督员") if (src == s).any()}
    hot = d[src == "12345热线"]
    out["hotline"] = {"registered": len(hot), "top_minor": _top_minor(hot.assign(weight=1.0), 5) if has["minor"] else []}
    out["other_sources"] = {s: int((src == s).sum()) for s in TECH + ["其他"] if (src == s).any()}
    out["by_platform"] = {p: _counts(d[d["platform"] == p], denominator) for p in ("市级", "区级")} if has["platform"] else {}
    kinds = d["kind"] if has["kind"] else pd.Series(pd.NA, index=d.index)
    out["by_kind"] = {k: int((kinds == k).sum()) for k in ("事件", "部件")}
    out["top_minor"] = {k: _top_minor(d[kinds == k], top_n) for k in ("事件", "部件")} if has["minor"] else {}
    out["by_area"] = _area_rows(d, areas, denominator) if has["area"] else []
    share = {r["area"]: _rate(r["registered"], len(d)) for r in out["by_area"]}
    for r in out["by_area"]:
        r["share"] = share[r["area"]]
    districts = [a for a in areas if a not in zones]
    out["area_extremes"] = {"districts": _extremes(area[area.isin(districts)].value_counts()),
                            "zones": _extremes(area[area.isin(zones)].value_counts())} if has["area"] else {}

    # streets
    if has["street"]:
        st = d.groupby("street", sort=True).agg(area=("area", "first"), registered=("street", "size"),
                                                closed=("closed", "sum"))
        st["closure_rate"] = st["closed"] / st["registered"]
        top = st.sort_values("registered", ascending=False, kind="stable").head(top_n)
        out["top_streets"] = []
        for name, row in top.iterrows():
            shares = d.loc[d["street"] == name, "minor"].value_counts(normalize=True).head(2) if has["minor"] else {}
            out["top_streets"].append({"street": str(name), "area": None if pd.isna(row["area"]) else str(row["area"]),
                                       "registered": int(row["registered"]),
                                       "top_minor": [{"minor": str(m), "share": float(v)} for m, v in shares.items()]})
        low = st.sort_values(["closure_rate", "registered"], ascending=[True, False], kind="stable").head(top_n)
        out["lowest_closure_streets"] = [{"street": str(n), "area": None if pd.isna(r["area"]) else str(r["area"]),
                                          "registered": int(r["registered"]), "closed": int(r["closed"]),
                                          "closure_rate": float(r["closure_rate"])} for n, r in low.iterrows()]
    else:
        out["top_streets"], out["lowest_closure_streets"] = [], []
        notes.append("案件无街道信息：按街道统计需先完成地理编码。")

    # district-platform table (区级平台网格案件处置结案情况)
    rows = []
    for a in areas:
        da = d[area == a]
        dp = da[da["platform"] == "区级"] if has["platform"] else da.iloc[:0]
        disp = dp[dp["dispatch_deadline"].notna()] if has["dispatch_deadline"] else dp.iloc[:0]
        on_disp = int((disp["dispatched_at"] <= disp["dispatch_deadline"]).sum()) if has["dispatched_at"] else 0
        city = da[src[da.index] == "市级监督员"]
        key, reg = da[da["is_key"]], da[~da["is_key"]]
        rows.append({"area": a, "dispatch_on_time_rate": _rate(on_disp, len(disp)),
                     "city_inspector_closure_rate": _rate(city["closed"].sum(), len(city)),
                     "district_platform_closure_rate": _rate(dp["closed"].sum(), len(dp)),
                     "key_closure_rate": _rate(key["closed"].sum(), len(key)),
                     "regular_closure_rate": _rate(reg["closed"].sum(), len(reg))})
    out["district_platform"] = rows

    # key cases
    key = d[d["is_key"]]
    kc: dict[str, Any] = {"registered": len(key), "closed": int(key["closed"].sum()),
                          "closure_rate": _rate(key["closed"].sum(), len(key)), "share": _rate(len(key), len(d))}
    by_area = [{"area": a, "registered": int((key["area"] == a).sum()), "closed": int(key.loc[key["area"] == a, "closed"].sum())}
               for a in areas] if has["area"] else []
    for r in by_area:
        r["closure_rate"] = _rate(r["closed"], r["registered"])
    kc["by_area"] = by_area
    kc["top_areas"] = sorted([r for r in by_area if r["closure_rate"] is not None],
                             key=lambda r: -r["closure_rate"])[:3]
    if has["minor"]:
        vc = key["minor"].value_counts()
        kc["top_minor"] = [{"minor": str(m), "registered": int(n), "share": _rate(n, len(key)),
                            "closed": int(key.loc[key["minor"] == m, "closed"].sum()),
                            "closure_rate": _rate(key.loc[key["minor"] == m, "closed"].sum(), n)}
                           for m, n in vc.head(3).items()]
        sp = key[key["minor"] == "私搭乱建（疑似新增）"]
        kc["special"] = {"minor": "私搭乱建（疑似新增）", "registered": len(sp), "share": _rate(len(sp), len(key)),
                         "closed": int(sp["closed"].sum()), "closure_rate": _rate(sp["closed"].sum(), len(sp))}
    out["key_cases"] = kc

    # technology-assisted
    tech = {}
    for s in TECH:
        t = d[src == s]
        tech[s] = {"registered": len(t), "closed": int(t["closed"].sum()),
                   "by_area": {str(k): int(v) for k, v in t.groupby(area[t.index]).size().items()} if has["area"] else {}}
    out["technology"] = tech

    # grid workers
    g = d[d["handled_by_grid_worker"].fillna(False).astype(bool)]
    gw_rows = [{"area": a, "registered": int((g["area"] == a).sum()), "closed": int(g.loc[g["area"] == a, "closed"].sum())}
               for a in areas] if has["area"] else []
    for r in gw_rows:
        r["closure_rate"] = _rate(r["closed"], r["registered"])
    out["grid_workers"] = {"registered": len(g), "by_area": gw_rows}

    # 接诉即办: 12345 cases due in the month, with the response outcomes where the export has them
    hd = hot[hot["due"]] if len(hot) else hot
    cols = [c for c in ("hotline_responded", "hotline_disposed", "hotline_satisfied") if c in hot and hot[c].notna().any()]
    h_rows = []
    for a in areas if has["area"] else []:
        ha = hd[hd["area"] == a]
        row = {"area": a, "due": len(ha)}
        for c in cols:
            v = ha[c].dropna()
            row[c.removeprefix("hotline_") + "_rate"] = _rate(v.astype(bool).sum(), len(v))
        h_rows.append(row)
    out["hotline_response"] = {"due": len(hd), "by_area": h_rows, "outcomes": [c.removeprefix("hotline_") for c in cols]}

    # satellite remote-sensing cases
    sat = d[src == "卫星遥感"]
    end = _month_end(month)
    dd = sat[sat["dispatch_deadline"].notna() & (sat["dispatch_deadline"] < end)] if has["dispatch_deadline"] else sat.iloc[:0]
    out["satellite"] = {
        "registered": len(sat),
        "to_dispatch": len(dd),
        "dispatched_on_time": int((dd["dispatched_at"] <= dd["dispatch_deadline"]).sum()) if len(dd) else 0,
        "due": int(sat["due"].sum()), "due_closed_on_time": int((sat["due"] & sat["on_time"]).sum()),
        "rework_by_area": ({str(k): int(v) for k, v in sat[sat["rework_count"] > 0].groupby("area").size().items()}
                           if "rework_count" in sat and has["area"] else {}),
    }
    out["satellite"]["dispatch_on_time_rate"] = _rate(out["satellite"]["dispatched_on_time"], out["satellite"]["to_dispatch"])

    out["scores"] = [{"area": a, "score": float(scores[a])} for a in sorted(scores, key=lambda a: -scores[a])] if scores else None
    out["omissions"] = None  # needs the city's re-inspection matching (a later stage)
    out["whistle"] = None  # 吹哨报到 records are not part of the case export
    out["hotspots"] = hotspots
    out["month_on_month"] = _month_on_month(out, previous, month, areas, zones, denominator) if previous is not None else None
    out["notes"] = notes
    return out


_MOM_KEYS = ("registered", "closed", "closed_on_time", "closure_rate", "on_time_rate")


def _month_on_month(cur: dict, previous: pd.DataFrame, month: str, areas, zones, denominator) -> dict[str, Any] | None:
    prev_month = str(pd.Period(month, "M") - 1)
    p = prepare(previous, prev_month)
    if p.empty:
        return None
    pc = _counts(p, denominator)
    out: dict[str, Any] = {"previous_month": prev_month}
    for k in _MOM_KEYS:
        a, b = cur[k], pc[k]
        out[k] = {"previous": b, "change": None if a is None or b is None else a - b,
                  "change_rate": _rate(a - b, b) if k in ("registered", "closed", "closed_on_time") and b else None}
    key_prev = p[p["is_key"]]
    out["key_registered"] = {"previous": len(key_prev), "change": cur["key_cases"]["registered"] - len(key_prev)}
    return out


def json_ready(obj: Any) -> Any:
    """Numpy scalars and NaN → plain Python (NaN becomes None)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
