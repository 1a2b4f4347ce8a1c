"""The calibrated synthetic city-month generator: six months of cases whose June reproduces the bulletin."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from gridgeo.boundaries import Boundaries, load_boundaries
from gridgeo.demo.attributes import build_attributes
from gridgeo.demo.closure import assign_closure
from gridgeo.demo.plan import MonthPlan, load_calibration, plan_month
from gridgeo.demo.space import SiteIndex, place_cases
from gridgeo.demo.times import assign_times
from gridgeo.profile import Profile, default_profile
from gridgeo.schema import conform
from gridgeo.worktime import WorkCalendar

__all__ = ["DemoContext", "generate_month", "run_demo"]

log = logging.getLogger(__name__)

_AREA_SHORT = {"五华区": "五", "盘龙区": "盘", "官渡区": "官", "西山区": "西", "呈贡区": "呈",
               "高新区": "高", "经开区": "经", "度假区": "度"}
_PHRASES = ["发现", "巡查发现", "群众反映", "现场存在", "多处存在"]
_ROADS = ["路", "街", "巷", "大道"]


@dataclass
class DemoContext:
    """What every demo month shares: profile, boundaries, calibration, calendar and case sites."""

    profile: Profile
    boundaries: Boundaries
    calibration: dict
    calendar: WorkCalendar
    sites: SiteIndex
    seed: int

    @classmethod
    def create(cls, profile: Profile | None = None, *, seed: int | None = None) -> DemoContext:
        profile = profile or default_profile()
        b = load_boundaries(profile)
        cal = load_calibration(profile.resolve(profile.demo["calibration"]), profile.sources.platform_of())
        seed = cal["design"].get("seed", 0) if seed is None else seed
        return cls(profile, b, cal, WorkCalendar.from_profile(profile.calendar),
                   SiteIndex.build(b.grids, profile.metric_crs, seed), seed)


def _case_ids(df: pd.DataFrame) -> np.ndarray:
    """Case numbers in the form of Kunming's platform: 2024昆(市)管字061301603号 (MMDD + sequence)."""
    short = np.where(df["platform"] == "市级", "市", df["area"].map(_AREA_SHORT).fillna("其"))
    day = df["registered_at"].dt.strftime("%m%d").to_numpy()
    year = df["registered_at"].dt.year.astype(str).to_numpy()
    key = pd.Series(short + day)
    seq = key.groupby(key).cumcount().to_numpy() + 1
    return np.char.add(np.char.add(np.char.add(year.astype(str), "昆("), short.astype(str)),
                       np.char.add(np.char.add(")管字", day.astype(str)),
                                   np.char.add(np.char.zfill(seq.astype(str), 5), "号")))


def generate_month(ctx: DemoContext, plan: MonthPlan) -> pd.DataFrame:
    """Build one month of canonical cases (with lon/lat) from its plan."""
    rng = np.random.default_rng([ctx.seed, int(plan.month.replace("-", "")), 7])
    streets = pd.DataFrame(ctx.boundaries.streets.drop(columns="geometry"))
    cells = ctx.boundaries.grids.groupby("street_code").size()
    cats = ctx.profile.categories.table
    df = build_attributes(plan, streets=streets, cells_per_street=cells, categories=cats,
                          platform_of=ctx.profile.sources.platform_of(), rng=rng)
    limits = cats.set_index("minor")[["time_limit", "time_unit"]]
    long_limit = ((df["minor"].map(limits["time_unit"]) == "working_days")
                  & (df["minor"].map(limits["time_limit"]) >= 10)).to_numpy()
    df = assign_closure(df, plan, long_limit=long_limit, rng=rng)
    df = assign_times(df, month=plan.month, limits=limits, calendar=ctx.calendar,
                      dispatch_limit_min=float(ctx.profile.calendar.get("dispatch_limit_working_minutes", 30)), rng=rng,
                      dispatch_on_time=plan.dispatch_on_time)
    loc = place_cases(df, ctx.sites, hotspots=plan.hotspots, boost=plan.hotspot_boost, seed=ctx.seed, rng=rng)
    tr = Transformer.from_crs(ctx.profile.metric_crs, "EPSG:4326", always_xy=True)
    lon, lat = tr.transform(loc["x"].to_numpy(), loc["y"].to_numpy())
    df["lon"], df["lat"] = np.round(lon, 7), np.round(lat, 7)
    df["grid_code"] = loc["grid_code"]
    df["community"] = loc["community"]
    df["geocode_method"] = "point"
    df = df.sort_values(["registered_at", "platform", "area"], kind="stable").reset_index(drop=True)
    df["case_id"] = _case_ids(df)
    n = len(df)
    num = rng.integers(1, 300, n).astype(str)
    road = np.array(_ROADS)[rng.integers(0, len(_ROADS), n)]
    comm = df["community"].fillna("").to_numpy().astype(str)
    df["address"] = (df["district"].astype(str) + df["street"].astype(str) + comm
                     + np.char.add(np.char.add(np.char.add(np.char.replace(comm, "社区", ""), road), num), "号附近"))
    df["description"] = (np.array(_PHRASES)[rng.integers(0, len(_PHRASES), n)] + df["minor"].astype(str) + "问题")
    df["rework_count"] = np.where(df["closed"] & (rng.random(n) < 0.01), 1, 0).astype("int32")
    hot = (df["source"] == "12345热线").to_numpy()
    for col, p in (("hotline_responded", 0.9), ("hotline_disposed", 0.97), ("hotline_satisfied", 0.7)):
        v = pd.Series(pd.NA, index=df.index, dtype="boolean")
        v[hot] = rng.random(int(hot.sum())) < p
        df[col] = v
    return conform(df.drop(columns=["group", "street_code", "closed", "late"]))


def run_demo(out: str | Path, *, seed: int | None = None, scale: float = 1.0, profile: Profile | None = None,
             months: list[str] | None = None, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Generate the demo months and write them to ``OUT/cases/YYYY-MM.parquet``; return cases per month."""
    from gridgeo.io import write_month

    ctx = DemoContext.create(profile, seed=seed)
    months = months or list(ctx.profile.demo["months"])
    written = {}
    for m in months:
        plan = plan_month(ctx.calibration, m, scale=scale, seed=seed)
        cases = generate_month(ctx, plan)
        write_month(out, m, cases, merge=False)
        written[m] = len(cases)
        log.info("demo %s: %d cases", m, len(cases))
        if progress:
            progress(m)
    return written
