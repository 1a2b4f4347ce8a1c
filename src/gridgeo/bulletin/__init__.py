"""The monthly bulletin (通报): indicators from the case store, rendered to JSON, Markdown, HTML and Word."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from gridgeo.bulletin.indicators import DENOMINATORS, compute_indicators, json_ready
from gridgeo.errors import InputError
from gridgeo.profile import Profile, default_profile

__all__ = ["FORMATS", "DENOMINATORS", "compute_indicators", "read_scores", "write_bulletin"]

FORMATS = ("json", "md", "html", "docx")


def read_scores(path: str | Path) -> dict[str, float]:
    """An official score table: CSV with columns 区属 (or area) and 得分 (or score)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: score table not found")
    t = pd.read_csv(p, dtype=str, encoding="utf-8-sig")
    cols = {c.strip(): c for c in t.columns}
    a = cols.get("区属") or cols.get("area")
    s = cols.get("得分") or cols.get("score")
    if not a or not s:
        raise InputError(f"{p}: needs columns 区属 and 得分 (or area and score); found {list(t.columns)}")
    vals = pd.to_numeric(t[s], errors="coerce")
    bad = [i + 2 for i in range(len(t)) if pd.isna(vals.iloc[i])]
    if bad:
        raise InputError(f"{p}: rows {bad[:5]}, column {s}: not a number")
    return dict(zip(t[a].str.strip(), vals.astype(float)))


def hotspot_summary(folders: list[Path], month: str, areas: list[str]) -> dict[str, Any] | None:
    """Clusters and significant hot cells per area, from the CSV summaries `gridgeo hotspots` wrote (if any)."""
    for f in folders:
        cells, clusters = f / "hotspots" / f"{month}-cells.csv", f / "hotspots" / f"{month}-clusters.csv"
        if cells.is_file() and clusters.is_file():
            c = pd.read_csv(cells, encoding="utf-8-sig")
            k = pd.read_csv(clusters, encoding="utf-8-sig")
            rows = [{"area": a, "clusters": int((k["area"] == a).sum()),
                     "hot_cells": int(((c["area"] == a) & (c["gi_bin"] > 0)).sum())} for a in areas]
            return {"source": str(f / "hotspots" / f"{month}.gpkg"), "by_area": rows,
                    "clusters": int(len(k)), "hot_cells": int((c["gi_bin"] > 0).sum())}
    return None


def write_bulletin(
    store: str | Path,
    month: str,
    out: str | Path,
    *,
    formats: tuple[str, ...] = FORMATS,
    profile: Profile | None = None,
    scores: dict[str, float] | None = None,
    denominator: str = "registered",
) -> dict[str, Any]:
    """Compute the month's bulletin from ``store`` and write ``OUT/bulletin/<month>.<fmt>``; return the JSON dict.

    The previous month, when the store holds it, gives the month-on-month figures.
    """
    from gridgeo.bulletin.charts import render_charts
    from gridgeo.bulletin.document import build_blocks
    from gridgeo.bulletin.render import to_docx, to_html, to_markdown
    from gridgeo.io import atomic_path, read_month, store_months

    profile = profile or default_profile()
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"unknown format(s) {unknown}; choose from {', '.join(FORMATS)}")
    if not Path(store).is_dir():
        raise InputError(f"{store}: no such store folder; create one with `gridgeo ingest` or `gridgeo demo`")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise InputError(f"--month {month!r} is not a month; write it as YYYY-MM, e.g. 2024-06")
    months = store_months(store)
    cases = read_month(store, month)
    prev = str(pd.Period(month, "M") - 1)
    previous = read_month(store, prev) if prev in months else None
    b = compute_indicators(cases, month=month, areas=profile.areas, zones=profile.zones, denominator=denominator,
                           previous=previous, scores=scores,
                           hotspots=hotspot_summary([Path(out), Path(store)], month, profile.areas))
    if month not in months:
        b["notes"].append(f"库中没有{month}的案件，所有数字为零。")
    b = json_ready(b)
    base = Path(out) / "bulletin"
    base.mkdir(parents=True, exist_ok=True)
    if "json" in formats:
        with atomic_path(base / f"{month}.json") as tmp:
            tmp.write_text(json.dumps(b, ensure_ascii=False, indent=2), encoding="utf-8")
    if set(formats) & {"md", "html", "docx"}:
        charts = render_charts(b)
        blocks = build_blocks(b, city=profile.name, charts=set(charts))
        title = f"{profile.name}城市网格化管理工作通报（{month}）"
        if "md" in formats:
            chart_dir = f"{month}-charts"
            (base / chart_dir).mkdir(exist_ok=True)
            for name, (_, png) in charts.items():
                (base / chart_dir / f"{name}.png").write_bytes(png)
            with atomic_path(base / f"{month}.md") as tmp:
                tmp.write_text(to_markdown(blocks, charts, chart_dir), encoding="utf-8")
        if "html" in formats:
            with atomic_path(base / f"{month}.html") as tmp:
                tmp.write_text(to_html(blocks, charts, title), encoding="utf-8")
        if "docx" in formats:
            with atomic_path(base / f"{month}.docx") as tmp:
                to_docx(blocks, charts, tmp)
    return b
