"""Bulletin charts: matplotlib bar charts with Chinese labels in the CJK font that ships with mplfonts."""

from __future__ import annotations

import importlib.util
import io
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["cjk_font_path", "render_charts"]

_FONT_FILE = "NotoSansCJKsc-Regular.otf"  # Noto Sans CJK SC, SIL Open Font License, shipped by mplfonts


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file installed with the ``mplfonts`` package (a dependency of gridgeo)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the CJK chart font comes with the mplfonts package: pip install mplfonts")
    path = Path(next(iter(spec.submodule_search_locations))) / "fonts" / _FONT_FILE
    if not path.is_file():
        raise ImportError(f"mplfonts is installed but has no {_FONT_FILE}; reinstall mplfonts")
    return path


def _bar(title: str, labels: list[str], values: list[float], *, unit: str, percent: bool = False) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    prop = font_manager.FontProperties(fname=str(cjk_font_path()))
    fig = Figure(figsize=(7.0, 3.6), dpi=150)
    ax = fig.add_subplot()
    y = list(range(len(labels)))[::-1]
    ax.barh(y, values, color="#2f6db5")
    ax.set_yticks(y, labels=labels, fontproperties=prop, fontsize=9)
    ax.set_title(title, fontproperties=prop, fontsize=12)
    ax.set_xlabel(unit, fontproperties=prop, fontsize=9)
    for yi, v in zip(y, values):
        ax.text(v, yi, f" {v:.2%}" if percent else f" {v:,.0f}", va="center", fontsize=8, fontproperties=prop)
    if percent and values:
        lo = min(values)
        ax.set_xlim(max(0.0, lo - (1 - lo) * 1.5 - 0.01), 1.0)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def chart_specs(b: dict[str, Any]) -> dict[str, tuple[str, list[str], list[float], str, bool]]:
    """The bulletin's charts: name → (title, labels, values, unit, percent); empty data gives no chart."""
    specs = {}
    for kind, name in (("事件", "event_top10"), ("部件", "component_top10")):
        rows = b.get("top_minor", {}).get(kind, [])
        if rows:
            specs[name] = (f"{kind}小类案件量基本案件数排名前十", [r["minor"] for r in rows],
                           [r["weighted"] for r in rows], "基本案件数", False)
    if b.get("top_streets"):
        specs["street_top10"] = ("主城八区案件量排名前十位的街道", [f"{r['area'] or ''}{r['street']}" for r in b["top_streets"]],
                                 [r["registered"] for r in b["top_streets"]], "案件数", False)
    key = [r for r in b.get("key_cases", {}).get("by_area", []) if r["registered"]]
    if key:
        specs["key_by_area"] = ("重点案件分布情况", [r["area"] for r in key], [r["registered"] for r in key], "案件数", False)
    low = b.get("lowest_closure_streets", [])
    if low:
        specs["lowest_closure_streets"] = ("主城八区结案率较低的街道", [f"{r['area'] or ''}{r['street']}" for r in low],
                                           [r["closure_rate"] for r in low], "结案率", True)
    return specs


def render_charts(b: dict[str, Any]) -> dict[str, tuple[str, bytes]]:
    """Render every chart of the bulletin: name → (title, PNG bytes)."""
    return {name: (title, _bar(title, labels, values, unit=unit, percent=pct))
            for name, (title, labels, values, unit, pct) in chart_specs(b).items()}
