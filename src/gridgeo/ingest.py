"""Ingest: raw export rows → canonical cases plus rejects, each with its row number and reason (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gridgeo.crs import CRSSpec, to_wgs84_checked
from gridgeo.errors import InputError
from gridgeo.profile import Profile
from gridgeo.schema import (
    HEADER_ALIASES,
    PERSONAL_HEADERS,
    TIME_COLUMNS,
    as_float,
    bool_values,
    conform,
    map_values,
    match_headers,
    normalise_header,
)

__all__ = ["IngestResult", "normalise_cases", "parse_times"]

_TIME_LABEL = {"reported_at": "上报时间", "registered_at": "立案时间", "dispatched_at": "派遣时间",
               "deadline": "处置截止时间", "dispatch_deadline": "派遣截止时间", "closed_at": "结案时间"}
_DATE_RE = r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*(?:(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?:?)?\s*$"
_PERSONAL = {normalise_header(h) for h in PERSONAL_HEADERS}


@dataclass
class IngestResult:
    """Canonical cases (with ``ingest_notes``), rejected rows (``row``, ``reason`` + raw columns) and notes."""

    cases: pd.DataFrame
    rejects: pd.DataFrame
    mapping: dict[str, str]
    dropped_personal: list[str] = field(default_factory=list)
    swapped: int = 0
    outside: int = 0


def parse_times(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse the date forms of Chinese exports; return ``(timestamps, unparseable)``.

    Accepts ``2024-06-03 09:05:00``, ``2024/6/3 9:05``, ``2024年6月3日 9时5分``, ``2024.06.03``,
    ISO ``T`` separators and Excel serial day numbers. Blank cells are null, not unparseable.
    """
    if pd.api.types.is_datetime64_any_dtype(s):
        out = pd.to_datetime(s)
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        return out.astype("datetime64[ns]"), pd.Series(False, index=s.index)
    if s.dtype == object:  # spreadsheet cells: datetimes, numbers and text mixed
        t = s.map(lambda v: v.isoformat(sep=" ") if hasattr(v, "isoformat") else v).astype("string").str.strip()
    else:
        t = s.astype("string").str.strip()
    empty = t.isna() | (t == "")
    out = pd.to_datetime(t, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    rest = out.isna() & ~empty
    if rest.any():
        u = t[rest]
        num = pd.to_numeric(u, errors="coerce").astype("float64")
        serial = num.between(20000, 80000).fillna(False).astype(bool)
        if serial.any():
            days = num[serial]
            out.loc[days.index] = (pd.Timestamp("1899-12-30") + pd.to_timedelta(days * 86400.0, unit="s")).dt.round("s")
        u = u[~serial]
        norm = (u.str.replace(r"[年月/.]", "-", regex=True).str.replace("日", " ", regex=False)
                .str.replace(r"[时点]", ":", regex=True).str.replace("分", ":", regex=False)
                .str.replace("秒", "", regex=False).str.replace("T", " ", regex=False))
        parts = norm.str.extract(_DATE_RE).astype("float64")
        if len(parts):
            parts.columns = ["year", "month", "day", "hour", "minute", "second"]
            parts = parts.fillna({"hour": 0, "minute": 0, "second": 0})
            ok = parts["year"].notna()
            if ok.any():
                out.loc[parts.index[ok]] = pd.to_datetime(parts[ok], errors="coerce")
    bad = (out.isna() & ~empty).astype(bool)
    return out.astype("datetime64[ns]"), bad


def _notes_add(notes: np.ndarray, mask: np.ndarray, text) -> None:
    """Append ``text`` (a string, or a function giving a Series of texts) to the notes of the rows in ``mask``."""
    if not mask.any():
        return
    idx = np.flatnonzero(mask)
    if callable(text):
        text = text()
    vals = text.to_numpy()[idx] if isinstance(text, pd.Series) else np.full(len(idx), text, dtype=object)
    notes[idx] = [v if c is None else f"{c}; {v}" for c, v in zip(notes[idx], vals)]


def normalise_cases(
    raw: pd.DataFrame,
    *,
    crs: CRSSpec,
    profile: Profile,
    row_numbers: np.ndarray | None = None,
    overrides: dict[str, str] | None = None,
    source_file: str = "",
) -> IngestResult:
    """Map headers, parse values and convert coordinates; split the rows into cases and rejects.

    A row is rejected when it has no case number, no parseable 立案时间 (its month is unknown), or
    repeats an earlier row's case number. Every other problem keeps the row and is written into its
    ``ingest_notes``: unparseable other times, coordinates outside the profile's extent (then set to
    null), swapped coordinates (fixed), unknown sources, classes or areas. Personal-data columns of
    12345 exports (caller, phone) are dropped.
    """
    where = f"{source_file}: " if source_file else ""
    mapping = match_headers([str(c) for c in raw.columns], overrides)
    found = set(mapping.values())
    missing = [c for c in ("case_id", "registered_at") if c not in found]
    if missing:
        want = {c: HEADER_ALIASES[c][:3] for c in missing}
        raise InputError(
            f"{where}no column for {', '.join(missing)} (expected headers such as {want}); "
            f"headers found: {[str(c) for c in raw.columns][:12]} — rename them or pass a mapping file with --mapping"
        )
    n = len(raw)
    rows = np.arange(2, n + 2) if row_numbers is None else np.asarray(row_numbers)
    raw = raw.reset_index(drop=True)
    inv = {v: k for k, v in mapping.items()}
    col = {c: raw[h] for h, c in mapping.items()}
    dropped = [str(h) for h in raw.columns if normalise_header(h) in _PERSONAL]
    notes = np.full(n, None, dtype=object)
    reason = np.full(n, None, dtype=object)
    df = pd.DataFrame(index=raw.index)

    cid = col["case_id"].astype("string").str.strip()
    cid = cid.str.replace(r"\.0$", "", regex=True) if pd.api.types.is_numeric_dtype(col["case_id"]) else cid
    no_id = (cid.isna() | (cid == "")).to_numpy()
    reason[no_id] = f"缺少案件编号（列 {inv['case_id']}）"
    df["case_id"] = cid

    for c in TIME_COLUMNS:
        if c not in col:
            continue
        ts, bad = parse_times(col[c])
        df[c] = ts
        badv = bad.to_numpy()
        if c == "registered_at":
            miss = (ts.isna().to_numpy()) & (reason == None)  # noqa: E711
            txt = col[c].astype("string").fillna("")
            reason[miss] = ("立案时间缺失或无法解析（列 " + inv[c] + "）：'" + txt[miss] + "'").to_numpy()
        else:
            _notes_add(notes, badv, lambda c=c: "无法解析的" + _TIME_LABEL[c] + "：'" + col[c].astype("string") + "'")

    dup = cid.duplicated(keep="first").to_numpy() & ~no_id & (reason == None)  # noqa: E711
    if dup.any():
        first_row = pd.Series(rows, index=raw.index).groupby(cid.fillna("")).transform("first").to_numpy()
        reason[dup] = [f"案件编号重复（与第{r}行相同）" for r in first_row[dup]]

    src_lookup = profile.sources.lookup()
    if "source" in col:
        s = col["source"].astype("string").str.strip()
        mapped = map_values(s, src_lookup, keep=False, normalise=True)
        unknown = mapped.isna().to_numpy()
        given = (s.notna() & (s != "")).to_numpy()
        _notes_add(notes, unknown & given, lambda: "来源'" + s.fillna("") + "'不在来源表中，记为其他")
        _notes_add(notes, unknown & ~given, "来源缺失，记为其他")
        df["source"] = mapped.fillna("其他")
    else:
        df["source"] = "其他"
        _notes_add(notes, np.ones(n, bool), "无来源列，记为其他")
    plat_of = profile.sources.platform_of()
    default_platform = df["source"].map(plat_of).astype("string")
    if "platform" in col:
        p = col["platform"].astype("string").str.strip().str.replace("平台", "", regex=False)
        p = p.where(p.isin(["市级", "区级"]))
        df["platform"] = p.fillna(default_platform)
    else:
        df["platform"] = default_platform

    if "kind" in col:
        k = col["kind"].astype("string").str.strip().str.replace("类", "", regex=False)
        kinds = k.where(k.isin(["事件", "部件"]))
        other = (kinds.isna() & k.notna() & (k != "")).to_numpy()
        _notes_add(notes, other, lambda: "类型'" + k.fillna("") + "'不是事件或部件")
        df["kind"] = kinds

    cats = profile.categories
    lookup = cats.lookup()
    if "minor" in col:
        m = col["minor"].astype("string").str.strip()
        canon = map_values(m, lookup, keep=True)
        unknown = (~canon.isin(cats.table["minor"]) & canon.notna() & (canon != "")).to_numpy()
        _notes_add(notes, unknown, lambda: "小类'" + m.fillna("") + "'不在分类表中")
        df["minor"] = canon
    t = cats.table.set_index("minor")
    minor = df["minor"] if "minor" in df else pd.Series(pd.NA, index=raw.index, dtype="string")
    df["major"] = col["major"].astype("string").str.strip() if "major" in col else minor.map(t["major"]).astype("string")
    if "kind" not in df:
        df["kind"] = minor.map(t["kind"]).astype("string")
    w = as_float(col["weight"]) if "weight" in col else pd.Series(np.nan, index=raw.index)
    df["weight"] = w.fillna(minor.map(t["weight"]).astype("float64")).fillna(1.0)
    key_default = minor.map(t["is_key"]).astype("boolean").fillna(False)
    df["is_key"] = bool_values(col["is_key"]).fillna(key_default) if "is_key" in col else key_default

    for c in ("description", "address", "district", "street", "community", "grid_code", "status"):
        if c in col:
            df[c] = col[c].astype("string").str.strip()
    if "area" in col:
        a = col["area"].astype("string").str.strip()
        a = map_values(a, profile.area_aliases, keep=True)
        unknown = (~a.isin(profile.areas) & a.notna() & (a != "")).to_numpy()
        _notes_add(notes, unknown, lambda: "区属'" + a.fillna("") + "'不是本市管理区")
        df["area"] = a
    for c in ("rework_count",):
        if c in col:
            df[c] = as_float(col[c]).fillna(0).astype("int32")
    if "handled_by_grid_worker" in col:
        df["handled_by_grid_worker"] = bool_values(col["handled_by_grid_worker"]).fillna(False).astype(bool)
    for c in ("hotline_responded", "hotline_disposed", "hotline_satisfied"):
        if c in col:
            df[c] = bool_values(col[c])

    swapped = outside = 0
    if "x" in col and "y" in col:
        x, y = as_float(col["x"]).to_numpy(), as_float(col["y"]).to_numpy()
        given = (col["x"].astype("string").fillna("").str.strip() != "").to_numpy()
        unparsed = given & ~np.isfinite(x)
        _notes_add(notes, unparsed, lambda: "坐标无法解析：'" + col["x"].astype("string").fillna("") + "', '"
                   + col["y"].astype("string").fillna("") + "'")
        lon, lat, sw, out = to_wgs84_checked(x, y, crs, profile.extent)
        _notes_add(notes, sw, "坐标两轴互换，已纠正")
        _notes_add(notes, out, lambda: "坐标(" + pd.Series(x).astype("string").fillna("") + ", "
                   + pd.Series(y).astype("string").fillna("") + ")超出城市范围（按 " + crs.name + "），已置空")
        lon[out] = np.nan
        lat[out] = np.nan
        df["lon"], df["lat"] = lon, lat
        swapped, outside = int((sw & (reason == None)).sum()), int((out & (reason == None)).sum())  # noqa: E711
    located = df["lon"].notna() if "lon" in df else pd.Series(False, index=raw.index)
    df["geocode_method"] = np.where(located, "point", "none")

    extra = [h for h in raw.columns if h not in mapping and normalise_header(h) not in _PERSONAL]
    for h in extra:
        df[str(h)] = raw[h].astype("string")
    df["ingest_notes"] = pd.Series(notes, index=raw.index, dtype="string")
    rejected = reason != None  # noqa: E711
    cases = conform(df[~rejected])
    rej = raw[rejected].drop(columns=[h for h in raw.columns if normalise_header(h) in _PERSONAL]).astype("string")
    rej.insert(0, "reason", reason[rejected])
    rej.insert(0, "row", rows[rejected])
    if source_file:
        rej.insert(0, "file", source_file)
    return IngestResult(cases.reset_index(drop=True), rej.reset_index(drop=True), mapping, dropped, swapped, outside)


@dataclass
class IngestReport:
    """What one ``gridgeo ingest`` run read, stored and rejected (by reason), per file and in all."""

    read: int = 0
    stored: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    swapped: int = 0
    outside: int = 0
    months: set[str] = field(default_factory=set)
    reject_files: list[str] = field(default_factory=list)
    dropped_personal: list[str] = field(default_factory=list)

    def add_rejects(self, reasons: pd.Series) -> None:
        for r, k in reasons.str.replace(r"[：:（(].*$", "", regex=True).value_counts().items():
            self.rejected[r] = self.rejected.get(r, 0) + int(k)


def ingest_files(
    paths: list[str],
    *,
    store: str,
    crs: CRSSpec | None,
    profile: Profile,
    overrides: dict[str, str] | None = None,
    progress=None,
) -> IngestReport:
    """Read each export, normalise it, add its cases to ``store`` by month and write its rejects.

    Rejects go to ``STORE/rejects/<input-stem>.csv`` (UTF-8 with BOM); a case already in the store
    (same case_id) is rejected there as 已在库中, so every input row is accounted for.
    """
    from pathlib import Path

    from gridgeo.crs import parse_crs
    from gridgeo.io import read_export, write_csv, write_month

    report = IngestReport()
    for path in paths:
        raw, rows, file_crs = read_export(path)
        spec = crs
        if spec is None and file_crs is not None:
            spec = parse_crs(f"EPSG:{file_crs.to_epsg()}") if file_crs.to_epsg() else None
        if spec is None:
            spec = parse_crs("wgs84")
        res = normalise_cases(raw, crs=spec, profile=profile, row_numbers=rows, overrides=overrides,
                              source_file=Path(path).name)
        report.read += len(raw)
        report.swapped += res.swapped
        report.outside += res.outside
        report.dropped_personal += [c for c in res.dropped_personal if c not in report.dropped_personal]
        rejects = [res.rejects]
        cases = res.cases.assign(_row=rows[~np.isin(rows, res.rejects["row"].to_numpy())])
        months = cases["registered_at"].dt.strftime("%Y-%m")
        for month, part in cases.groupby(months, sort=True):
            dups: list[pd.DataFrame] = []
            n = write_month(store, month, part.drop(columns="_row"), on_duplicate=dups.append)
            report.stored += n
            report.months.add(month)
            for d in dups:
                back = part.loc[part["case_id"].isin(d["case_id"])]
                rj = raw.iloc[back["_row"].to_numpy() - 2].astype("string").reset_index(drop=True)
                rj.insert(0, "reason", "案件编号已在库中（重复导入）")
                rj.insert(0, "row", back["_row"].to_numpy())
                rj.insert(0, "file", Path(path).name)
                rejects.append(rj)
            if progress:
                progress(len(part))
        rej = pd.concat(rejects, ignore_index=True) if len(rejects) > 1 else rejects[0]
        if len(rej):
            report.add_rejects(rej["reason"])
            out = Path(store) / "rejects" / f"{Path(path).stem}.csv"
            write_csv(rej.sort_values("row", kind="stable"), out)
            report.reject_files.append(str(out))
    return report
