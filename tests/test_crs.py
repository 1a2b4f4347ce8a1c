"""Coordinate transforms against the published test vectors of DOMAIN.md §3."""

import numpy as np
import pytest

from gridgeo.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    to_wgs84_checked,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from gridgeo.errors import CRSError

# (lat, lon) WGS → GCJ, published and reproduced by two independent libraries
WGS_GCJ = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]
KUNMING_WGS = (25.0389, 102.7183)
KUNMING_GCJ = (25.035934505742244, 102.7197523947017)
KUNMING_BD = (25.042239130322734, 102.72616289725302)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs_to_gcj_vectors(wgs, gcj):
    lon, lat = wgs84_to_gcj02(wgs[1], wgs[0])
    assert lon == pytest.approx(gcj[1], abs=1e-12)
    assert lat == pytest.approx(gcj[0], abs=1e-12)


def test_beijing_vectors():
    lon, lat = 116.404, 39.915
    assert np.allclose(gcj02_to_bd09(lon, lat), (116.41036949371029, 39.92133699351021), atol=1e-12, rtol=0)
    assert np.allclose(wgs84_to_gcj02(lon, lat), (116.41024449916938, 39.91640428150164), atol=1e-12, rtol=0)
    # the exact (iterative) inverse
    assert np.allclose(gcj02_to_wgs84(lon, lat), (116.3977557546871, 39.91359623568433), atol=1e-9, rtol=0)
    # the published bd09→gcj02 vector is the one-step formula; the iterative inverse differs from it by
    # a few centimetres and round-trips exactly
    x, y = bd09_to_gcj02(lon, lat)
    assert np.allclose((x, y), (116.39762729119315, 39.90865673957631), atol=1e-6, rtol=0)
    assert np.allclose(gcj02_to_bd09(x, y), (lon, lat), atol=1e-10, rtol=0)


def test_kunming_chain_and_gauss_kruger():
    lon, lat = wgs84_to_gcj02(KUNMING_WGS[1], KUNMING_WGS[0])
    assert (lat, lon) == pytest.approx(KUNMING_GCJ, abs=1e-12)
    blon, blat = wgs84_to_bd09(KUNMING_WGS[1], KUNMING_WGS[0])
    assert (blat, blon) == pytest.approx(KUNMING_BD, abs=1e-12)
    # inverses back to WGS-84 below a millimetre (1e-8 degrees ≈ 1 mm)
    assert np.allclose(gcj02_to_wgs84(KUNMING_GCJ[1], KUNMING_GCJ[0]), (KUNMING_WGS[1], KUNMING_WGS[0]), atol=1e-8, rtol=0)
    assert np.allclose(bd09_to_wgs84(KUNMING_BD[1], KUNMING_BD[0]), (KUNMING_WGS[1], KUNMING_WGS[0]), atol=1e-8, rtol=0)
    e, n = from_wgs84(KUNMING_WGS[1], KUNMING_WGS[0], parse_crs("EPSG:4543"))
    assert (float(e), float(n)) == pytest.approx((572490.830, 2770555.569), abs=1e-3)
    # easting/northing in, lon/lat out (always_xy, whatever the EPSG axis order says)
    back = to_wgs84(572490.830, 2770555.569, parse_crs("4543"))
    assert np.allclose(back, (KUNMING_WGS[1], KUNMING_WGS[0]), atol=1e-7, rtol=0)


def test_outside_china_unchanged_and_vectorised():
    lon = np.array([2.35, 102.7183, -74.0])
    lat = np.array([48.85, 25.0389, 40.7])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon[0] == 2.35 and glat[2] == 40.7
    assert glon[1] != lon[1]
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon, lon, atol=1e-9) and np.allclose(wlat, lat, atol=1e-9)


def test_swapped_and_outside_detection():
    extent = (102.3, 24.65, 103.1, 25.5)
    x = np.array([102.7183, 25.0389, 116.4, np.nan])
    y = np.array([25.0389, 102.7183, 39.9, np.nan])
    lon, lat, swapped, outside = to_wgs84_checked(x, y, parse_crs("wgs84"), extent)
    assert swapped.tolist() == [False, True, False, False]
    assert outside.tolist() == [False, False, True, False]
    assert lon[1] == pytest.approx(102.7183) and lat[1] == pytest.approx(25.0389)
    # Gauss–Krüger northing/easting given in the wrong order
    lon, lat, swapped, outside = to_wgs84_checked(np.array([2770555.569]), np.array([572490.830]),
                                                  parse_crs("EPSG:4543"), extent)
    assert swapped.tolist() == [True] and not outside.any()
    assert lon[0] == pytest.approx(102.7183, abs=1e-7)


def test_parse_crs():
    assert parse_crs("GCJ-02").name == "gcj02"
    assert parse_crs("EPSG:4490").name == "cgcs2000"
    assert parse_crs("epsg:4522").epsg == 4522
    with pytest.raises(CRSError, match="unknown coordinate system"):
        parse_crs("mercator-ish")
    with pytest.raises(CRSError, match="unknown EPSG code"):
        parse_crs("EPSG:999999")
