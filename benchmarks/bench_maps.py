"""Benchmark of the maps stage (not a test): file size and time to render each map of a demo month.

Usage: python benchmarks/bench_maps.py DEMO_DIR [--month 2024-06] [--basemap amap]
DEMO_DIR is the output of `gridgeo demo` (its hotspot layers are reused). Each map is written by
`gridgeo.maps.write_maps` into a scratch folder; the time includes reading the month and layers.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("demo")
    ap.add_argument("--month", default="2024-06")
    ap.add_argument("--basemap", default="amap")
    a = ap.parse_args()
    from gridgeo.maps import write_maps
    from gridgeo.profile import default_profile

    out = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    print(f"{'map':8} {'MB':>6} {'seconds':>8}")
    for area in [*default_profile().areas, None]:
        t = time.perf_counter()
        if area is None:
            entries = write_maps(a.demo, a.month, str(out), basemap=a.basemap)  # every area and the city
            name = "city"
        else:
            entries = write_maps(a.demo, a.month, str(out), area=area, basemap=a.basemap)
            name = area
        sec = time.perf_counter() - t
        size = (out / "maps" / a.month / f"{name}.html").stat().st_size / 1e6
        label = name if area is not None else "all 9"
        print(f"{label:8} {size:6.2f} {sec:8.1f}" + ("  (city.html size)" if area is None else ""))
        del entries


if __name__ == "__main__":
    main()
