"""Workflow timestamps of demo cases: registration in working hours, dispatch, deadlines, closure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridgeo.worktime import WorkCalendar

__all__ = ["assign_times", "snapshot_of"]


def snapshot_of(month: str) -> np.datetime64:
    """The export time of a month: midnight at the start of the next month."""
    return (pd.Period(month, "M") + 1).start_time.to_datetime64().astype("datetime64[ns]")


def assign_times(df: pd.DataFrame, *, month: str, limits: pd.DataFrame, calendar: WorkCalendar,
                 dispatch_limit_min: float, rng: np.random.Generator,
                 dispatch_on_time: dict[str, float] | None = None) -> pd.DataFrame:
    """Add reported/registered/dispatched/deadline/dispatch_deadline/closed times and status.

    Registration falls on working days in office hours for inspectors (hotline and technology
    sources at any hour, any day); late cases are registered early enough that their late closure
    still precedes the month's export; closed-on-time cases close between dispatch and deadline.
    """
    n = len(df)
    start = pd.Period(month, "M").start_time.to_datetime64().astype("datetime64[ns]")
    snap = snapshot_of(month)
    days = np.arange(start.astype("datetime64[D]"), snap.astype("datetime64[D]"))
    work = calendar.is_workday(days)
    wday = np.where(work, 1.0, 0.15)
    office = ~df["source"].isin(["12345热线", "视频", "鹰眼", "无人机"]).to_numpy()
    late = df["late"].to_numpy()
    lim = df["minor"].map(limits["time_limit"]).to_numpy(dtype="float64")
    unit = df["minor"].map(limits["time_unit"]).to_numpy(dtype=object)
    # the latest day a late case may be registered: its deadline plus a delay must fall before export
    span = np.where(unit == "working_days", lim * 1.6, np.where(unit == "working_hours", lim / 7 * 1.6, lim / 24)) + 3
    last_day = np.clip(len(days) - 1 - np.ceil(span).astype(int), 0, len(days) - 1)
    day_idx = np.empty(n, dtype=int)
    p = wday / wday.sum()
    day_idx[:] = rng.choice(len(days), size=n, p=p)
    lt = np.flatnonzero(late)
    day_idx[lt] = np.minimum(day_idx[lt], (rng.random(len(lt)) * (last_day[lt] + 1)).astype(int))
    minute = np.where(office, rng.uniform(9 * 60, 17.9 * 60, n), rng.uniform(0, 24 * 60 - 30, n))
    lunch = office & (minute > 12 * 60) & (minute < 14 * 60)
    minute[lunch] += 120
    # dispatch within the limit, except a share of cases: on the district platform as the plan says per area
    disp_delay = rng.uniform(1.0, 0.9 * dispatch_limit_min, n)
    p_slow = np.full(n, 0.05)
    district = (df["platform"] == "区级").to_numpy()
    rate = df["area"].map(dispatch_on_time or {}).to_numpy(dtype="float64")
    p_slow = np.where(district & np.isfinite(rate), 1.0 - np.nan_to_num(rate), p_slow)
    slow = rng.random(n) < p_slow
    disp_delay[slow] += dispatch_limit_min * rng.uniform(1.1, 4.0, slow.sum())

    def chain(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = days[day_idx[rows]].astype("datetime64[ns]") + (minute[rows] * 60).astype("int64").astype("timedelta64[s]")
        d = calendar.add_working_minutes(r, disp_delay[rows])
        return r, d, calendar.deadline(d, lim[rows], unit[rows])

    everyone = np.arange(n)
    reg, dispatched, deadline = chain(everyone)
    for _ in range(12):  # a late case needs its deadline well before the export
        redo = np.flatnonzero(late & (deadline >= snap - np.timedelta64(2, "h")))
        if not len(redo):
            break
        day_idx[redo] = day_idx[redo] // 2
        reg[redo], dispatched[redo], deadline[redo] = chain(redo)
    else:
        raise RuntimeError("late cases whose deadline cannot precede the export")
    reported = reg - (rng.uniform(2, 45, n) * 60).astype("int64").astype("timedelta64[s]")
    dispatch_deadline = calendar.add_working_minutes(reg, dispatch_limit_min)
    closed = df["closed"].to_numpy()
    frac = rng.beta(2.0, 3.0, n) * 0.95 + 0.02
    on_time_close = dispatched + ((deadline - dispatched).astype("int64") * frac).astype("timedelta64[ns]")
    delay = (rng.uniform(0.2, 30.0, n) * 3600).astype("int64").astype("timedelta64[s]")
    late_close = deadline + delay
    late_close = np.where(late_close >= snap, deadline + (snap - deadline) // 2, late_close)
    closed_at = np.where(late, late_close, on_time_close)
    closed_at = np.where(closed, closed_at, np.datetime64("NaT"))
    # an on-time closure can never reach past the export: keep it before the snapshot
    closed_at = np.where(closed & ~late & (closed_at >= snap), snap - np.timedelta64(60, "s"), closed_at)
    # a case closed before its (next-morning) dispatch was dispatched at once, by the night duty
    early = closed & (closed_at < dispatched)
    dispatched = np.where(early, reg + (closed_at - reg) // 3, dispatched)
    out = df.copy()
    out["reported_at"] = reported
    out["registered_at"] = reg
    out["dispatched_at"] = dispatched
    out["dispatch_deadline"] = dispatch_deadline
    out["deadline"] = deadline
    out["closed_at"] = pd.to_datetime(closed_at).floor("s")
    out["status"] = np.where(closed, "已结案", np.where(rng.random(n) < 0.8, "处置中", "待核查"))
    return out
