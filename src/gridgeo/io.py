"""Disk I/O: reading case exports in every supported format, the monthly case store, atomic writes."""

from __future__ import annotations

import contextlib
import io as _io
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridgeo.errors import InputError
from gridgeo.schema import conform

__all__ = [
    "atomic_path",
    "read_export",
    "read_month",
    "read_store",
    "store_months",
    "to_geodataframe",
    "write_csv",
    "write_month",
]

log = logging.getLogger(__name__)

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".parquet", ".geojson", ".json", ".gpkg", ".shp"}


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are meant to be read by others (a web server, QGIS)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV in UTF-8 with BOM, so that Excel opens Chinese text correctly; written atomically."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig")


def decode_text(data: bytes, name: str) -> str:
    """Decode a text export: UTF-8 (with or without BOM), then GB18030 (a superset of GBK), then a guess."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:8192]
    if b"\x00" in head:
        raise InputError(f"{name}: binary data, not a text table; export the cases as CSV or XLSX")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"{name}: cannot tell the text encoding; save it as UTF-8 or GBK CSV")
    return str(best)


def read_export(path: str | Path) -> tuple[pd.DataFrame, np.ndarray, object]:
    """Read one case export; return ``(raw table of text/values, row numbers, file CRS or None)``.

    Row numbers are as a spreadsheet shows them (header = row 1). Spatial formats contribute their
    point coordinates as columns ``x``/``y`` and their CRS.
    """
    p = Path(path)
    name = str(p)
    if not p.exists():
        raise InputError(f"{name}: no such file")
    if p.is_dir():
        raise InputError(f"{name}: is a folder, not a table file")
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{name}: unsupported file type {suffix or '(none)'}; give CSV, XLSX, Parquet, GeoJSON, "
                         "GeoPackage or Shapefile")
    if p.stat().st_size == 0:
        raise InputError(f"{name}: the file is empty")
    crs = None
    try:
        if suffix in (".csv", ".txt"):
            text = decode_text(p.read_bytes(), name)
            sep = "\t" if suffix == ".txt" and "\t" in text[:2000] else ","
            raw = _read_csv_text(text, sep)
        elif suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(p, dtype=object, engine="openpyxl")
        elif suffix == ".parquet":
            raw = pd.read_parquet(p)
            if "geometry" in raw.columns:
                g = gpd.read_parquet(p)
                raw, crs = _points_to_columns(g)
        else:
            g = gpd.read_file(p)
            raw, crs = _points_to_columns(g)
    except InputError:
        raise
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError, UnicodeError) as e:
        raise InputError(f"{name}: not a readable table ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    except Exception as e:  # pyogrio, openpyxl and zipfile raise their own types for broken files
        raise InputError(f"{name}: not a readable table ({type(e).__name__}: {str(e).splitlines()[0][:120]})") from None
    if raw.shape[1] < 2:
        raise InputError(f"{name}: found {raw.shape[1]} column(s); is this a case table? Check the separator "
                         "and that the first row holds the headers")
    raw.columns = [str(c).strip() for c in raw.columns]
    rows = np.arange(2, len(raw) + 2)
    return raw, rows, crs


def _read_csv_text(text: str, sep: str) -> pd.DataFrame:
    """Parse CSV text with every column as text: pyarrow's reader (several times faster), pandas as fallback."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    data = text.encode("utf-8")
    parse = pcsv.ParseOptions(delimiter=sep, newlines_in_values=True)
    try:
        names = pcsv.open_csv(_io.BytesIO(data), parse_options=parse).schema.names
        if len(set(names)) != len(names):
            raise pa.ArrowInvalid("duplicate column names")
        table = pcsv.read_csv(_io.BytesIO(data), parse_options=parse,
                              convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                                  strings_can_be_null=False))
        return table.to_pandas()
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, skipinitialspace=True)


def _points_to_columns(g: gpd.GeoDataFrame) -> tuple[pd.DataFrame, object]:
    geom = g.geometry
    df = pd.DataFrame(g.drop(columns=g.geometry.name))
    if len(g) and not (geom.geom_type.dropna() == "Point").all():
        geom = geom.representative_point()
    df["x"] = geom.x
    df["y"] = geom.y
    return df, g.crs


# --- the case store --------------------------------------------------------------------------


def to_geodataframe(cases: pd.DataFrame) -> gpd.GeoDataFrame:
    """Cases with a WGS-84 point geometry from lon/lat (null where unlocated)."""
    ok = cases["lon"].notna() & cases["lat"].notna()
    geom = gpd.GeoSeries.from_xy(cases["lon"].where(ok), cases["lat"].where(ok), crs="EPSG:4326", index=cases.index)
    geom[~ok] = None
    return gpd.GeoDataFrame(cases, geometry=geom, crs="EPSG:4326")


def month_path(store: Path, month: str) -> Path:
    return Path(store) / "cases" / f"{month}.parquet"


def store_months(store: str | Path) -> list[str]:
    """Months present in a store, sorted."""
    d = Path(store) / "cases"
    return sorted(p.stem for p in d.glob("*.parquet")) if d.is_dir() else []


def read_month(store: str | Path, month: str) -> gpd.GeoDataFrame:
    """The cases of one month (empty table if the store has none)."""
    p = month_path(Path(store), month)
    if not p.exists():
        from gridgeo.schema import empty_cases

        return to_geodataframe(empty_cases())
    g = gpd.read_parquet(p)
    return gpd.GeoDataFrame(conform(pd.DataFrame(g.drop(columns="geometry"))), geometry=g.geometry, crs=g.crs)


def read_store(store: str | Path, months: list[str] | None = None) -> gpd.GeoDataFrame:
    """All cases of the given months (default: every month in the store)."""
    months = store_months(store) if months is None else months
    if not Path(store).exists():
        raise InputError(f"{store}: no such store folder; create one with `gridgeo ingest` or `gridgeo demo`")
    parts = [read_month(store, m) for m in months]
    if not parts:
        from gridgeo.schema import empty_cases

        return to_geodataframe(empty_cases())
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs="EPSG:4326")


def _write_parquet(g: gpd.GeoDataFrame, path: Path) -> None:
    with atomic_path(path) as tmp:
        g.to_parquet(tmp, index=False, compression="zstd")


def write_month(store: str | Path, month: str, cases: pd.DataFrame, *, merge: bool = True,
                on_duplicate: Callable[[pd.DataFrame], None] | None = None) -> int:
    """Write one month's cases to the store, merged with what is there; return how many rows were new.

    Cases whose case_id is already stored are not written again; they are passed to ``on_duplicate``.
    Rows are sorted by (registered_at, case_id) so the same input gives the same file.
    """
    path = month_path(Path(store), month)
    new = conform(cases)
    if merge and path.exists():
        old = read_month(store, month)
        seen = new["case_id"].isin(old["case_id"])
        if seen.any() and on_duplicate is not None:
            on_duplicate(new[seen])
        new = new[~seen]
        if new.empty:
            return 0
        both = conform(pd.concat([pd.DataFrame(old.drop(columns="geometry")), new], ignore_index=True))
    else:
        both = new
    both = both.sort_values(["registered_at", "case_id"], kind="stable").reset_index(drop=True)
    _write_parquet(to_geodataframe(both), path)
    return len(new)


def write_layers(layers: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write GeoDataFrames as the layers of one GeoPackage (atomically; times as ISO text for QGIS)."""
    with atomic_path(path) as tmp:
        tmp.unlink()
        for name, g in layers.items():
            g = g.copy()
            for c in g.columns:
                if pd.api.types.is_datetime64_any_dtype(g[c]):
                    g[c] = g[c].dt.strftime("%Y-%m-%d %H:%M:%S")
            g.to_file(tmp, layer=name, driver="GPKG")
