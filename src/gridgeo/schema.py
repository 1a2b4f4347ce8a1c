"""The canonical case table: columns, dtypes, header aliases, and the reference tables (classes, sources)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gridgeo.errors import InputError

__all__ = [
    "CASE_COLUMNS",
    "HEADER_ALIASES",
    "PERSONAL_HEADERS",
    "Categories",
    "Sources",
    "conform",
    "empty_cases",
    "normalise_header",
]

STR = "string"
TS = "datetime64[ns]"

#: canonical case columns and their pandas dtypes (DESIGN.md data contract); enforced by :func:`conform`
CASE_COLUMNS: dict[str, str] = {
    "case_id": STR,
    "source": STR,
    "platform": STR,
    "kind": STR,
    "major": STR,
    "minor": STR,
    "is_key": "bool",
    "weight": "float64",
    "description": STR,
    "address": STR,
    "lon": "float64",
    "lat": "float64",
    "area": STR,
    "district": STR,
    "street": STR,
    "community": STR,
    "grid_code": STR,
    "geocode_method": STR,
    "reported_at": TS,
    "registered_at": TS,
    "dispatched_at": TS,
    "deadline": TS,
    "dispatch_deadline": TS,
    "closed_at": TS,
    "status": STR,
    "rework_count": "int32",
    "handled_by_grid_worker": "bool",
    "hotline_responded": "boolean",
    "hotline_disposed": "boolean",
    "hotline_satisfied": "boolean",
}
TIME_COLUMNS = [c for c, t in CASE_COLUMNS.items() if t == TS]
_DEFAULTS = {"is_key": False, "weight": 1.0, "rework_count": 0, "handled_by_grid_worker": False}

#: the header spellings of real exports (Chinese and English) → canonical column; ``x``/``y`` are the raw
#: coordinates in the declared CRS, converted to ``lon``/``lat`` at ingest
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "case_id": ("案件编号", "案件号", "案卷编号", "案卷号", "任务号", "工单编号", "工单号", "编号", "caseid", "id"),
    "source": ("问题来源", "案件来源", "来源", "上报来源", "信息来源", "source"),
    "platform": ("平台", "立案平台", "所属平台", "平台级别", "platform"),
    "kind": ("问题类型", "案件类型", "案件类别", "类型", "类别", "kind", "type"),
    "major": ("大类名称", "大类", "问题大类", "案件大类", "major"),
    "minor": ("小类名称", "小类", "问题小类", "案件小类", "minor"),
    "is_key": ("是否重点案件", "重点案件", "是否重点", "iskey"),
    "weight": ("基本案件数", "折算系数", "权重", "weight"),
    "description": ("问题描述", "案件描述", "描述", "诉求内容", "description"),
    "address": ("地址", "问题地址", "事发地址", "发生地址", "案发地址", "事发地点", "address"),
    "x": ("经度", "x坐标", "x", "横坐标", "lon", "lng", "longitude", "坐标x"),
    "y": ("纬度", "y坐标", "y", "纵坐标", "lat", "latitude", "坐标y"),
    "area": ("所属区", "区属", "管理区", "所属区县", "所属区域", "area"),
    "district": ("行政区", "区县", "所属行政区", "行政区划", "district"),
    "street": ("街道", "所属街道", "街道办", "街道名称", "street"),
    "community": ("社区", "所属社区", "社区名称", "community"),
    "grid_code": ("单元网格", "网格编码", "单元网格编码", "网格号", "网格编号", "gridcode"),
    "reported_at": ("上报时间", "发现时间", "受理时间", "reportedat"),
    "registered_at": ("立案时间", "registeredat"),
    "dispatched_at": ("派遣时间", "派单时间", "dispatchedat"),
    "deadline": ("处置截止时间", "处置时限", "截止时间", "处置期限", "deadline"),
    "dispatch_deadline": ("派遣截止时间", "派遣时限", "dispatchdeadline"),
    "closed_at": ("结案时间", "closedat"),
    "status": ("当前阶段", "案件状态", "状态", "处理状态", "status"),
    "rework_count": ("返工次数", "返工数", "reworkcount"),
    "handled_by_grid_worker": ("网格员处置", "是否网格员处置", "网格员案件", "handledbygridworker"),
    "hotline_responded": ("是否响应", "响应情况", "hotlineresponded"),
    "hotline_disposed": ("是否处置", "处置情况", "hotlinedisposed"),
    "hotline_satisfied": ("是否满意", "满意度", "满意情况", "hotlinesatisfied"),
}
#: headers holding personal data (12345 callers): never stored
PERSONAL_HEADERS = ("来电人", "来电人姓名", "联系人", "联系电话", "来电号码", "手机号", "电话", "身份证号", "联系地址")

_HEADER_JUNK = re.compile(r"[\s_\-（）()：:*·.\ufeff]")


def normalise_header(name: object) -> str:
    """Header text without spaces, brackets, BOM or case, for matching against :data:`HEADER_ALIASES`."""
    return _HEADER_JUNK.sub("", str(name)).lower()


def map_values(s: pd.Series, lookup: dict[str, str], *, keep: bool, normalise: bool = False) -> pd.Series:
    """Map each value through ``lookup`` (after :func:`normalise_header` if ``normalise``).

    Unmatched values stay as they are (``keep``) or become null. Works on the distinct values only,
    so a month of rows costs no more than its few hundred distinct spellings.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    keys = [normalise_header(u) if normalise else u for u in uniques]
    mapped = np.array([lookup.get(k, u if keep else None) for k, u in zip(keys, uniques)] + [None], dtype=object)
    return pd.Series(mapped[codes], index=s.index, dtype="string")


_ALIAS_LOOKUP = {normalise_header(a): col for col, names in HEADER_ALIASES.items() for a in names}
_ALIAS_LOOKUP.update({normalise_header(c): c for c in CASE_COLUMNS})


def match_headers(headers: list[str], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Map raw headers to canonical names (first match wins); ``overrides`` maps raw header → canonical."""
    overrides = {normalise_header(k): v for k, v in (overrides or {}).items()}
    out: dict[str, str] = {}
    taken: set[str] = set()
    for h in headers:
        key = normalise_header(h)
        col = overrides.get(key) or _ALIAS_LOOKUP.get(key)
        if col and col not in taken:
            out[h] = col
            taken.add(col)
    return out


def empty_cases() -> pd.DataFrame:
    """A case table with every canonical column and no rows."""
    return conform(pd.DataFrame({c: [] for c in CASE_COLUMNS}))


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy with every canonical column present, in order, with its dtype; extra columns follow.

    Missing optional values become nulls (never sentinel strings); missing non-null flags take their
    defaults (is_key False, weight 1, rework_count 0, handled_by_grid_worker False).
    """
    out = pd.DataFrame(index=df.index)
    for col, dtype in CASE_COLUMNS.items():
        if col in df.columns:
            s = df[col]
        elif col in _DEFAULTS:
            s = pd.Series(_DEFAULTS[col], index=df.index)
        elif dtype == "float64":
            s = pd.Series(np.nan, index=df.index, dtype="float64")
        elif dtype == TS:
            s = pd.Series(pd.NaT, index=df.index, dtype=TS)
        else:
            s = pd.Series(pd.NA, index=df.index, dtype=dtype)
        if col in _DEFAULTS:
            s = s.fillna(_DEFAULTS[col]) if s.dtype == object or s.isna().any() else s
        if dtype == TS:
            s = pd.to_datetime(s)
            if getattr(s.dt, "tz", None) is not None:
                s = s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
            s = s.astype(TS)
        elif dtype == STR:
            s = s.astype(STR)
            s = s.mask(s.str.strip() == "")
        else:
            s = s.astype(dtype)
        out[col] = s
    extra = [c for c in df.columns if c not in CASE_COLUMNS]
    for c in extra:
        out[c] = df[c]
    return out


# --- reference tables -------------------------------------------------------------------------


def _read_table(path: Path, need: set[str], what: str) -> pd.DataFrame:
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = need - set(t.columns)
    if missing:
        raise InputError(f"{path}: {what} table lacks columns {sorted(missing)}; see data/{Path(path).name}")
    return t


def _alias_lookup(names: pd.Series, aliases: pd.Series, key=lambda v: v) -> dict[str, str]:
    """Every spelling (the name and its ``|``-separated aliases, through ``key``) → the canonical name."""
    out: dict[str, str] = {}
    for name, alt in zip(names, aliases):
        out[key(name)] = name
        for a in filter(None, str(alt).split("|")):
            out.setdefault(key(a), name)
    return out


@dataclass(frozen=True)
class Categories:
    """The class table (大类 → 小类) with weights, key-campaign flags and time limits."""

    table: pd.DataFrame

    @classmethod
    def read(cls, path: Path) -> Categories:
        t = _read_table(path, {"kind", "major", "minor", "code", "weight", "is_key", "time_limit", "time_unit"}, "class")
        problems = []
        dup = t["minor"][t["minor"].duplicated()]
        if len(dup):
            problems.append(f"minor classes listed twice: {sorted(set(dup))}")
        bad_unit = sorted(set(t["time_unit"]) - {"working_hours", "working_days", "hours"})
        if bad_unit:
            problems.append(f"unknown time_unit values {bad_unit} (use working_hours, working_days or hours)")
        if problems:
            raise InputError(f"{path}: " + "; ".join(problems))
        t["weight"] = pd.to_numeric(t["weight"].replace("", "1")).astype("float64")
        t["is_key"] = t["is_key"].str.lower().isin(["true", "1", "yes", "是"])
        t["time_limit"] = pd.to_numeric(t["time_limit"]).astype("float64")
        if "aliases" not in t.columns:
            t["aliases"] = ""
        return cls(t.reset_index(drop=True))

    def lookup(self) -> dict[str, str]:
        """Every known spelling of a minor class (name and aliases) → its canonical name."""
        return _alias_lookup(self.table["minor"], self.table["aliases"])


@dataclass(frozen=True)
class Sources:
    """The reporting sources with the platform that registers them and the spellings seen in exports."""

    table: pd.DataFrame

    @classmethod
    def read(cls, path: Path) -> Sources:
        return cls(_read_table(path, {"source", "platform", "aliases"}, "source"))

    def lookup(self) -> dict[str, str]:
        """Every spelling of a source, normalised as by :func:`normalise_header` → its canonical name."""
        return _alias_lookup(self.table["source"], self.table["aliases"], normalise_header)

    def platform_of(self) -> dict[str, str]:
        return dict(zip(self.table["source"], self.table["platform"]))

    @property
    def names(self) -> list[str]:
        return list(self.table["source"])


def bool_values(s: pd.Series) -> pd.Series:
    """Parse yes/no columns of Chinese exports (是/否, 1/0, true/false, 满意/不满意) into nullable booleans."""
    t = s.astype("string").str.strip().str.lower()
    yes = t.isin(["是", "1", "true", "yes", "y", "满意", "已响应", "已处置", "t", "1.0"])
    no = t.isin(["否", "0", "false", "no", "n", "不满意", "未响应", "未处置", "f", "0.0"])
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[yes.fillna(False).to_numpy()] = True
    out[no.fillna(False).to_numpy()] = False
    return out


def as_float(s: pd.Series) -> pd.Series:
    """Numbers from text (full-width digits and commas allowed); anything else becomes NaN."""
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    t = s.astype("string").str.strip()
    out = pd.to_numeric(t, errors="coerce").astype("float64")
    retry = out.isna() & t.notna() & (t != "")
    if retry.any():  # full-width digits, thousands separators
        u = t[retry].str.translate(str.maketrans("０１２３４５６７８９．－，", "0123456789.-,")).str.replace(",", "", regex=False)
        out[retry] = pd.to_numeric(u, errors="coerce").astype("float64")
    return out.where(np.isfinite(out))
