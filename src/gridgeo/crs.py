"""Coordinate systems: WGS-84 ⇄ GCJ-02 ⇄ BD-09 (vectorised), EPSG transforms and sanity checks.

GCJ-02 and BD-09 are published obfuscation formulas, not datums, so PROJ does not know them. The
forward formulas are closed-form; the inverses have no closed form and are solved here by fixed-point
iteration to well below a millimetre. Outside China's bounding box points are returned unchanged, as
every implementation of the formulas does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridgeo.errors import CRSError

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "parse_crs",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "from_wgs84",
    "CRSSpec",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
# China's box, as used by the reference implementations
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271
_TOL_DEG = 1e-10  # ≈ 0.01 mm
_MAX_ITER = 30

Array = NDArray[np.float64]


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    if x.shape != y.shape:
        raise ValueError(f"lon and lat differ in shape: {x.shape} and {y.shape}")
    return x, y


def _in_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    return (lon >= _LON_MIN) & (lon <= _LON_MAX) & (lat >= _LAT_MIN) & (lat <= _LAT_MAX)


def _gcj_delta(lon: Array, lat: Array) -> tuple[Array, Array]:
    """The GCJ-02 offset (degrees) at a WGS-84 position."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 → GCJ-02 (Amap, Tencent). Returns ``(lon, lat)`` arrays."""
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(x, y)
    inside = _in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → BD-09 (Baidu). Returns ``(lon, lat)`` arrays."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_step(lon: Array, lat: Array) -> tuple[Array, Array]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(forward, lon: Array, lat: Array, start: tuple[Array, Array]) -> tuple[Array, Array]:
    """Solve ``forward(p) = (lon, lat)`` for p by fixed-point iteration from ``start``."""
    gx, gy = start
    for _ in range(_MAX_ITER):
        fx, fy = forward(gx, gy)
        ex, ey = fx - lon, fy - lat
        gx = gx - ex
        gy = gy - ey
        if np.all(np.abs(ex) < _TOL_DEG) and np.all(np.abs(ey) < _TOL_DEG):
            break
    return gx, gy


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """GCJ-02 → WGS-84, exact to well below a millimetre (iterative inverse)."""
    x, y = _as_arrays(lon, lat)
    dlon, dlat = _gcj_delta(x, y)
    inside = _in_china(x, y)
    gx, gy = _invert(wgs84_to_gcj02, x, y, (x - dlon, y - dlat))
    return np.where(inside, gx, x), np.where(inside, gy, y)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 → GCJ-02, the inverse of :func:`gcj02_to_bd09` solved iteratively."""
    x, y = _as_arrays(lon, lat)
    return _invert(gcj02_to_bd09, x, y, _bd09_to_gcj02_step(x, y))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """WGS-84 → BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Array, Array]:
    """BD-09 → WGS-84 (both inverses iterative)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


# --- declared input systems -------------------------------------------------------------------

_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "4326": "wgs84",
    "cgcs2000": "cgcs2000",
    "epsg:4490": "cgcs2000",
    "4490": "cgcs2000",
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "amap": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "baidu": "bd09",
}


@dataclass(frozen=True)
class CRSSpec:
    """A declared input coordinate system: a formula system or an EPSG code."""

    name: str  # wgs84, cgcs2000, gcj02, bd09 or "epsg:NNNN"
    epsg: int | None = None


def parse_crs(text: str) -> CRSSpec:
    """Parse a ``--crs`` value: wgs84, cgcs2000, gcj02, bd09 or an EPSG code (``EPSG:4543``, ``4543``)."""
    key = str(text).strip().lower()
    if key in _ALIASES:
        name = _ALIASES[key]
        return CRSSpec(name, 4326 if name == "wgs84" else 4490 if name == "cgcs2000" else None)
    digits = key.removeprefix("epsg:")
    if digits.isdigit():
        from pyproj import CRS
        from pyproj.exceptions import CRSError as ProjCRSError

        try:
            crs = CRS.from_epsg(int(digits))
        except ProjCRSError:
            raise CRSError(
                f"unknown EPSG code {digits!r}: give wgs84, cgcs2000, gcj02, bd09 or a valid EPSG code"
            ) from None
        geographic = not crs.is_projected
        if int(digits) == 4326:
            return CRSSpec("wgs84", 4326)
        if int(digits) == 4490:
            return CRSSpec("cgcs2000", 4490)
        if geographic and not crs.is_geographic:
            raise CRSError(f"EPSG:{digits} is neither geographic nor projected; cannot read points in it")
        return CRSSpec(f"epsg:{digits}", int(digits))
    raise CRSError(
        f"unknown coordinate system {text!r}: give wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as EPSG:4543"
    )


def to_wgs84(x: ArrayLike, y: ArrayLike, spec: CRSSpec) -> tuple[Array, Array]:
    """Convert ``x, y`` (lon/lat, or easting/northing for projected codes) in ``spec`` to WGS-84 lon/lat.

    Projected coordinates are always taken as ``x = easting, y = northing`` (``always_xy``), whatever
    axis order the EPSG definition declares.
    """
    xa, ya = _as_arrays(x, y)
    if spec.name in ("wgs84", "cgcs2000"):
        return xa.copy(), ya.copy()  # CGCS2000 differs from WGS-84 by centimetres
    if spec.name == "gcj02":
        return gcj02_to_wgs84(xa, ya)
    if spec.name == "bd09":
        return bd09_to_wgs84(xa, ya)
    from pyproj import Transformer

    tr = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    lon, lat = tr.transform(xa, ya)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def from_wgs84(lon: ArrayLike, lat: ArrayLike, spec: CRSSpec) -> tuple[Array, Array]:
    """Convert WGS-84 lon/lat to ``spec`` (the inverse of :func:`to_wgs84`)."""
    xa, ya = _as_arrays(lon, lat)
    if spec.name in ("wgs84", "cgcs2000"):
        return xa.copy(), ya.copy()
    if spec.name == "gcj02":
        return wgs84_to_gcj02(xa, ya)
    if spec.name == "bd09":
        return wgs84_to_bd09(xa, ya)
    from pyproj import Transformer

    tr = Transformer.from_crs(4326, spec.epsg, always_xy=True)
    ex, ny = tr.transform(xa, ya)
    return np.asarray(ex, dtype="float64"), np.asarray(ny, dtype="float64")


def in_extent(lon: ArrayLike, lat: ArrayLike, extent: tuple[float, float, float, float]) -> NDArray[np.bool_]:
    """Whether each point lies inside ``(minlon, minlat, maxlon, maxlat)``; NaN is outside."""
    x, y = _as_arrays(lon, lat)
    x0, y0, x1, y1 = extent
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def to_wgs84_checked(
    x: ArrayLike, y: ArrayLike, spec: CRSSpec, extent: tuple[float, float, float, float]
) -> tuple[Array, Array, NDArray[np.bool_], NDArray[np.bool_]]:
    """Convert to WGS-84 and sanity-check against the city's extent.

    A point that falls outside ``extent`` but inside it with its two coordinates exchanged (lat/lon
    given as lon/lat, or northing/easting as easting/northing) is taken swapped. Returns
    ``(lon, lat, swapped, outside)``: ``outside`` marks points that are outside either way (NaN
    coordinates are neither swapped nor outside; callers treat them as missing).
    """
    xa, ya = _as_arrays(x, y)
    lon, lat = to_wgs84(xa, ya, spec)
    ok = in_extent(lon, lat, extent)
    finite = np.isfinite(xa) & np.isfinite(ya)
    swapped = np.zeros(xa.shape, dtype=bool)
    bad = finite & ~ok
    if bad.any():
        slon, slat = to_wgs84(ya[bad], xa[bad], spec)
        fixed = in_extent(slon, slat, extent)
        idx = np.flatnonzero(bad)[fixed]
        lon[idx], lat[idx] = slon[fixed], slat[fixed]
        swapped[idx] = True
    outside = finite & ~swapped & ~ok
    return lon, lat, swapped, outside
