"""Working time: the profile's calendar (office hours, weekends, holidays, swapped workdays) and deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["WorkCalendar"]

_EPOCH = np.datetime64("1990-01-01", "D")
_END = np.datetime64("2041-01-01", "D")


def _minutes(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class WorkCalendar:
    """Office hours and working days; adds working hours and days to timestamps, vectorised.

    Working time is counted as a single clock of working minutes since 1990: a deadline of N working
    hours is the instant at which N × 60 working minutes have passed. A deadline that falls exactly
    at a day's end stays at that day's end, not at the next morning.
    """

    segments: tuple[tuple[int, int], ...] = ((540, 720), (840, 1080))
    weekend: tuple[int, ...] = (5, 6)
    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()

    @classmethod
    def from_profile(cls, cfg: dict[str, Any]) -> WorkCalendar:
        hours = cfg.get("hours", [["09:00", "12:00"], ["14:00", "18:00"]])
        return cls(
            segments=tuple((_minutes(a), _minutes(b)) for a, b in hours),
            weekend=tuple(cfg.get("weekend", (5, 6))),
            holidays=tuple(cfg.get("holidays", ())),
            workdays=tuple(cfg.get("workdays", ())),
        )

    @property
    def minutes_per_day(self) -> int:
        return sum(b - a for a, b in self.segments)

    @cached_property
    def _table(self) -> tuple[np.ndarray, np.ndarray]:
        """(is-working flag per day since the epoch, the sorted working days)."""
        days = np.arange(_EPOCH, _END)
        dow = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (3)
        off = np.isin(dow, self.weekend)
        off &= ~np.isin(days, np.array(self.workdays, dtype="datetime64[D]"))
        off |= np.isin(days, np.array(self.holidays, dtype="datetime64[D]"))
        return ~off, days[~off]

    def _day_index(self, d: np.ndarray) -> np.ndarray:
        i = (d - _EPOCH).astype("int64")
        if len(i) and (i.min() < 0 or i.max() >= len(self._table[0])):
            raise ValueError(f"dates outside the calendar's range {_EPOCH}..{_END}")
        return i

    def is_workday(self, t: pd.Series | np.ndarray) -> np.ndarray:
        d = np.asarray(t, dtype="datetime64[ns]").astype("datetime64[D]")
        return self._table[0][self._day_index(d.ravel())].reshape(d.shape)

    def _clock(self, t: np.ndarray) -> np.ndarray:
        """Working minutes from the epoch to each instant."""
        day = t.astype("datetime64[D]")
        minute = (t - day).astype("timedelta64[s]").astype("float64") / 60.0
        flags, workdays = self._table
        before = np.searchsorted(workdays, day, side="left").astype("float64")
        inday = np.zeros(t.shape)
        for a, b in self.segments:
            inday += np.clip(minute - a, 0, b - a)
        work = flags[self._day_index(day)]
        return before * self.minutes_per_day + np.where(work, inday, 0.0)

    def _instant(self, clock: np.ndarray) -> np.ndarray:
        w = self.minutes_per_day
        k = np.floor(clock / w)
        r = clock - k * w
        end = (r <= 1e-9) & (k > 0)
        k = np.where(end, k - 1, k)
        r = np.where(end, w, r)
        day = self._table[1][k.astype("int64")]
        minute = np.zeros(clock.shape)
        acc = 0.0
        for a, b in self.segments:
            length = b - a
            here = (r > acc - 1e-9) & (r <= acc + length + 1e-9)
            minute = np.where(here & (minute == 0), a + (r - acc), minute)
            acc += length
        secs = np.round(minute * 60).astype("int64")
        return day.astype("datetime64[ns]") + secs.astype("timedelta64[s]")

    def add_working_minutes(self, t: pd.Series | np.ndarray, minutes: np.ndarray | float) -> np.ndarray:
        """``t`` plus ``minutes`` of working time (NaT stays NaT)."""
        ts = np.asarray(t, dtype="datetime64[ns]")
        nat = np.isnat(ts)
        safe = np.where(nat, np.datetime64("2000-01-03T09:00", "ns"), ts)
        out = self._instant(self._clock(safe) + np.broadcast_to(np.asarray(minutes, dtype="float64"), ts.shape))
        return np.where(nat, np.datetime64("NaT", "ns"), out)

    def deadline(self, start: pd.Series | np.ndarray, limit: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """Deadline from ``start`` for limits in ``working_hours``, ``working_days`` or clock ``hours``."""
        ts = np.asarray(start, dtype="datetime64[ns]")
        limit = np.asarray(limit, dtype="float64")
        unit = np.asarray(unit, dtype=object)
        work_min = np.where(unit == "working_hours", limit * 60.0, limit * self.minutes_per_day)
        worked = self.add_working_minutes(ts, np.where(unit == "hours", 0.0, work_min))
        clock = ts + (limit * 3600.0).astype("int64").astype("timedelta64[s]")
        return np.where(unit == "hours", clock, worked)

    def working_minutes_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working minutes from ``a`` to ``b`` (negative when ``b`` is earlier)."""
        return self._clock(np.asarray(b, dtype="datetime64[ns]")) - self._clock(np.asarray(a, dtype="datetime64[ns]"))
