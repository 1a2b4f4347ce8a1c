"""Month plans: the integer counts a demo month must have, from the calibration file (June) or scaled from it."""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gridgeo.errors import CalibrationError

__all__ = ["MonthPlan", "load_calibration", "plan_month", "rate_window", "GROUPS"]

#: source → class group of the design table
GROUPS = {"市级监督员": "general", "区级监督员": "general", "微信网站": "general", "其他": "general",
          "12345热线": "12345热线", "卫星遥感": "卫星遥感", "视频": "视频", "鹰眼": "鹰眼", "无人机": "无人机"}
PLATFORMS = ("市级", "区级")


@dataclass
class MonthPlan:
    """Everything the generator needs to build one month; ``exact`` turns on every bulletin constraint."""

    month: str
    exact: bool
    source_by_area: dict[str, dict[str, int]]
    platform_exceptions: dict[str, dict[str, Any]]
    unclosed: dict[str, list[int]]
    late: dict[str, list[int]]
    street_counts: dict[str, int]
    min_closure_others: float
    classes: dict[str, dict[str, tuple[int, int]]]
    hotline_kind: str | None
    key_propensity: dict[str, float]
    grid_worker: dict[str, Any]
    hotspots: dict[str, Any]
    hotspot_boost: dict[str, float] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    dispatch_on_time: dict[str, float] = field(default_factory=dict)


def load_calibration(path: Path, platform_of: dict[str, str]) -> dict[str, Any]:
    """Read a calibration TOML and check that its design adds up to its targets.

    ``platform_of`` maps each source to the platform that registers it (the profile's source table).
    """
    cal = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    check_calibration(cal, str(path), platform_of)
    return cal


def rate_window(n: int, rate: float, decimals: int = 4) -> tuple[int, int]:
    """The range of counts ``k`` (of ``n``) whose share ``k / n`` prints as ``rate`` to ``decimals`` places."""
    half = 0.5 * 10.0 ** -decimals
    ks = [k for k in range(max(0, math.floor(n * rate) - 3), min(n, math.ceil(n * rate) + 3) + 1)
          if n and abs(k / n - rate) < half - 1e-12]
    if not ks:
        raise CalibrationError(f"no count of {n} cases gives the rate {rate:.{decimals - 2}%}")
    return min(ks), max(ks)


def check_calibration(cal: dict[str, Any], where: str, platform_of: dict[str, str]) -> None:
    """Every design total must equal its target; collect all contradictions into one error."""
    t, d = cal["targets"], cal["design"]
    problems: list[str] = []
    sba = d["source_by_area"]
    for area, (reg, clo, ont) in t["by_area"].items():
        got = sum(sba.get(area, {}).values())
        if got != reg:
            problems.append(f"design.source_by_area[{area}] sums to {got}, target {reg}")
        u = sum(d["unclosed"][area])
        if reg - u != clo:
            problems.append(f"design.unclosed[{area}] gives {reg - u} closed, target {clo}")
        if clo - sum(d["late"][area]) != ont:
            problems.append(f"design.late[{area}] gives {clo - sum(d['late'][area])} on time, target {ont}")
    for src, n in t["by_source"].items():
        got = sum(v.get(src, 0) for v in sba.values())
        if got != n:
            problems.append(f"design.source_by_area gives {got} for {src}, target {n}")
    for src, (amax, nmax, amin, nmin) in t["source_extremes"].items():
        col = {a: v.get(src, 0) for a, v in sba.items()}
        if col[amax] != nmax or col[amin] != nmin or max(col.values()) != nmax or min(col.values()) != nmin:
            problems.append(f"design.source_by_area: {src} extremes are not {amax} {nmax} / {amin} {nmin}")
        if list(col.values()).count(nmax) > 1 or list(col.values()).count(nmin) > 1:
            problems.append(f"design.source_by_area: {src} extremes are tied")
    for src, areas in t["tech_by_area"].items():
        for a, n in areas.items():
            if sba[a].get(src, 0) != n:
                problems.append(f"design.source_by_area[{a}][{src}] is not {n}")
    for gname, classes in d["classes"].items():
        if not isinstance(classes, dict):
            continue
        members = [s for s, g in GROUPS.items() if g == gname]
        need = sum(v.get(s, 0) for v in sba.values() for s in members)
        got = sum(n for n, _ in classes.values())
        if got != need:
            problems.append(f"design.classes.{gname} has {got} cases, its sources have {need}")
        for minor, (n, k) in classes.items():
            if not 0 <= k <= n:
                problems.append(f"design.classes.{gname}[{minor}]: key count {k} not within 0..{n}")
    key = sum(k for g in d["classes"].values() if isinstance(g, dict) for _, k in g.values())
    if key != t["key"]["registered"]:
        problems.append(f"design.classes flag {key} key cases, target {t['key']['registered']}")
    for plat_i, plat in enumerate(PLATFORMS):
        reg, clo, ont = t["by_platform"][plat]
        n = sum(_platform_count(d, a, plat, platform_of) for a in sba)
        u = sum(v[plat_i] for v in d["unclosed"].values())
        late = sum(v[plat_i] for v in d["late"].values())
        if (n, n - u, n - u - late) != (reg, clo, ont):
            problems.append(f"platform {plat}: design gives {(n, n - u, n - u - late)}, target {(reg, clo, ont)}")
    gw = d["grid_worker"]
    if sum(gw["count"].values()) != t["grid_worker"]["registered"]:
        problems.append(f"design.grid_worker.count sums to {sum(gw['count'].values())}, "
                        f"target {t['grid_worker']['registered']}")
    for a, rate in t["grid_worker"]["closure"].items():
        n, u = gw["count"][a], gw["unclosed"][a]
        if abs((n - u) / n - rate) >= 0.00005:
            problems.append(f"design.grid_worker[{a}]: closure {(n - u) / n:.4%} does not print as {rate:.2%}")
    if problems:
        raise CalibrationError(f"{where}: the design contradicts the targets: " + "; ".join(problems))


def _platform_count(d: dict[str, Any], area: str, platform: str, default: dict[str, str]) -> int:
    n = 0
    for src, k in d["source_by_area"][area].items():
        moved = d.get("platform_exceptions", {}).get(src, {})
        away = moved.get("by_area", {}).get(area, 0)
        if default[src] == platform:
            n += k - (away if moved.get("platform") != platform else 0)
        elif moved.get("platform") == platform:
            n += away
    return n


def _apportion(weights: dict[str, float], total: int) -> dict[str, int]:
    """Largest-remainder integers proportional to ``weights`` summing to ``total``."""
    keys = list(weights)
    w = np.array([max(weights[k], 0.0) for k in keys], dtype="float64")
    if total <= 0 or w.sum() == 0:
        return {k: 0 for k in keys}
    raw = w / w.sum() * total
    base = np.floor(raw).astype(int)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")[:rest]
    base[order] += 1
    return dict(zip(keys, base.tolist()))


def plan_month(cal: dict[str, Any], month: str, *, scale: float = 1.0, seed: int | None = None) -> MonthPlan:
    """The plan of one month: the calibration month as designed (``exact`` at scale 1), others scaled.

    Another month takes June's design times its volume factor (with ±4 % noise per cell), keeps the
    closure shares of June per area and platform (±15 %), and moves planted hotspot shares by the
    configured monthly growth. ``scale`` shrinks every count for tests; below 1 no plan is exact.
    """
    d = copy.deepcopy(cal["design"])
    base_seed = d.get("seed", 0) if seed is None else seed
    rng = np.random.default_rng([base_seed, int(month.replace("-", ""))])
    is_cal = month == cal["month"]
    factor = (1.0 if is_cal else d["other_months"]["volume"].get(month, 1.0)) * scale
    exact = is_cal and scale == 1.0
    months_before = _months_between(month, cal["month"])
    boost = {s: -g * months_before for s, g in d["other_months"].get("hotspot_growth", {}).items()}
    if exact:
        return MonthPlan(month, True, d["source_by_area"], d.get("platform_exceptions", {}),
                         d["unclosed"], d["late"], d["streets"]["counts"], d["streets"]["min_closure_others"],
                         {g: {m: tuple(v) for m, v in c.items()} for g, c in d["classes"].items() if isinstance(c, dict)},
                         d["classes"].get("hotline_kind") or None, d["key_propensity"], d["grid_worker"],
                         d["hotspots"], boost, cal["targets"], base_seed, d.get("dispatch_on_time", {}))
    noise = (lambda: 1.0) if is_cal else (lambda: float(rng.uniform(0.96, 1.04)))
    sba = {a: {s: int(round(n * factor * noise())) for s, n in row.items()} for a, row in d["source_by_area"].items()}
    exc = copy.deepcopy(d.get("platform_exceptions", {}))
    for src, e in exc.items():
        e["by_area"] = {a: min(int(round(n * factor)), sba[a].get(src, 0)) for a, n in e["by_area"].items()}
    unclosed, late = {}, {}
    for a in sba:
        old_n = sum(d["source_by_area"][a].values())
        new_n = sum(sba[a].values())
        r = new_n / old_n if old_n else 0.0
        unclosed[a] = [int(round(u * r * (1.0 if is_cal else rng.uniform(0.85, 1.15)))) for u in d["unclosed"][a]]
        late[a] = [int(round(v * r * (1.0 if is_cal else rng.uniform(0.85, 1.15)))) for v in d["late"][a]]
    group_n: dict[str, int] = {}
    for row in sba.values():
        for s, n in row.items():
            group_n[GROUPS[s]] = group_n.get(GROUPS[s], 0) + n
    classes = {}
    for g, cl in d["classes"].items():
        if not isinstance(cl, dict):
            continue
        counts = _apportion({m: v[0] for m, v in cl.items()}, group_n.get(g, 0))
        classes[g] = {m: (counts[m], min(counts[m], int(round(counts[m] * (v[1] / v[0] if v[0] else 0)))))
                      for m, v in cl.items()}
    gw = copy.deepcopy(d["grid_worker"])
    for a in gw["count"]:
        r = sum(sba[a].values()) / max(1, sum(d["source_by_area"][a].values()))
        gw["count"][a] = int(round(gw["count"][a] * r))
        gw["unclosed"][a] = int(round(gw["unclosed"][a] * r))
    streets = {s: int(round(n * factor)) for s, n in d["streets"]["counts"].items()}
    return MonthPlan(month, False, sba, exc, unclosed, late, streets, d["streets"]["min_closure_others"],
                     classes, d["classes"].get("hotline_kind") or None, d["key_propensity"], gw, d["hotspots"],
                     boost, {}, base_seed, d.get("dispatch_on_time", {}))


def _months_between(a: str, b: str) -> int:
    ya, ma = map(int, a.split("-"))
    yb, mb = map(int, b.split("-"))
    return (yb - ya) * 12 + (mb - ma)
