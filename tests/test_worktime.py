"""Working-time arithmetic against hand-counted office hours (09:00–12:00, 14:00–18:00, 2024 holidays)."""

import numpy as np

from gridgeo.worktime import WorkCalendar

CAL = WorkCalendar(segments=((540, 720), (840, 1080)), weekend=(5, 6), holidays=("2024-06-10",),
                   workdays=("2024-02-04",))


def t(*s):
    return np.array(s, dtype="datetime64[ns]")


def test_working_hours_skip_lunch_weekend_and_holiday():
    # Fri 17:00 + 4 h: 1 h on Friday, Sat/Sun off, Mon 10 June is 端午, so 3 h on Tuesday → 12:00
    got = CAL.add_working_minutes(t("2024-06-07T17:00", "2024-06-07T10:30", "2024-06-08T10:00"), 240)
    assert got.tolist() == t("2024-06-11T12:00", "2024-06-07T16:30", "2024-06-11T15:00").tolist()


def test_deadline_units():
    start = t("2024-06-07T17:00", "2024-06-07T10:30", "2024-06-11T09:00", "2024-06-07T12:30")
    got = CAL.deadline(start, np.array([1, 2, 4, 4.0]), np.array(["working_days", "working_hours", "hours", "working_hours"]))
    # a day's end stays at that day's end (18:00), not the next morning
    assert got.tolist() == t("2024-06-11T17:00", "2024-06-07T14:30", "2024-06-11T13:00", "2024-06-07T18:00").tolist()


def test_swapped_workday_and_nat():
    assert CAL.is_workday(t("2024-02-04", "2024-02-03", "2024-06-10")).tolist() == [True, False, False]
    out = CAL.add_working_minutes(np.array(["NaT", "2024-02-04T09:00"], dtype="datetime64[ns]"), 60)
    assert np.isnat(out[0]) and out[1] == np.datetime64("2024-02-04T10:00")
    assert CAL.working_minutes_between(t("2024-06-07T17:00"), t("2024-06-11T12:00")).tolist() == [240.0]
