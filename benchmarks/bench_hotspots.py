"""Benchmark of the hotspot stage (not a test): gridgeo's geocode + bin + cluster against the
straightforward way (geopandas.sjoin on the street layer, sklearn DBSCAN with haversine/ball_tree).

Usage: python benchmarks/bench_hotspots.py DEMO_DIR [--points 1000000]

DEMO_DIR is the output of `gridgeo demo`. Each measurement runs in a fresh process, so wall time
and peak memory (maximum RSS) are its own; loading the parquet files is outside the timed part.
- month: June 2024 (213,025 cases); year: the six demo months twice (2.36 M cases).
- dbscan: one DBSCAN over N pooled case locations (eps 50 m, min_samples 10), gridgeo's
  (distinct locations, projected, kd-tree) against sklearn's haversine ball-tree on every point, with
  the labels compared (noise identical, core points in the same clusters).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc

EPS, K = 50.0, 10


def load(demo: str, which: str):
    import pandas as pd

    from gridgeo.io import read_store

    months = ["2024-06"] if which == "month" else None
    d = pd.DataFrame(read_store(demo, months).drop(columns="geometry"))
    if which == "year":
        d2 = d.copy()
        d2["case_id"] = d2["case_id"] + "b"
        d2["registered_at"] = d2["registered_at"] + pd.DateOffset(months=6)
        d = pd.concat([d, d2], ignore_index=True)
    return d


def ours(demo: str, which: str) -> dict:
    from gridgeo.bins import bin_cases
    from gridgeo.boundaries import load_boundaries
    from gridgeo.clusters import cluster_cases, load_params
    from gridgeo.geocode import geocode
    from gridgeo.profile import default_profile

    import sklearn.cluster  # noqa: F401  (imported before timing, as the baseline's is)

    p = default_profile()
    b = load_boundaries(p)
    d = load(demo, which).drop(columns=["area", "district", "street", "community", "grid_code"])
    t = time.perf_counter()
    g, _ = geocode(d, b)
    bins = bin_cases(g, resolution=9)
    cl, _ = cluster_cases(g, metric_crs=p.metric_crs, params=load_params(p.cluster_params_path))
    return {"seconds": time.perf_counter() - t, "cases": len(d), "bins": len(bins), "clusters": len(cl)}


def baseline(demo: str, which: str) -> dict:
    import geopandas as gpd
    import numpy as np
    from sklearn.cluster import DBSCAN

    from gridgeo.boundaries import load_boundaries
    from gridgeo.clusters import load_params
    from gridgeo.profile import default_profile

    p = default_profile()
    params = load_params(p.cluster_params_path)
    streets = load_boundaries(p).streets[["name", "area", "geometry"]]
    d = load(demo, which)
    t = time.perf_counter()
    pts = gpd.GeoDataFrame(d[["case_id", "minor", "registered_at"]],
                           geometry=gpd.points_from_xy(d["lon"], d["lat"]), crs="EPSG:4326")
    j = gpd.sjoin(pts, streets, predicate="within", how="left")
    j["month"] = j["registered_at"].dt.strftime("%Y-%m")
    n_clusters = 0
    for (m, minor), grp in j.groupby(["month", "minor"]):
        pr = params.get(minor)
        eps, k = (pr.eps_m, pr.min_samples) if pr else (EPS, K)
        rad = np.radians(np.column_stack([grp.geometry.y, grp.geometry.x]))
        lab = DBSCAN(eps=eps / 6371008.8, min_samples=k, metric="haversine", algorithm="ball_tree").fit_predict(rad)
        n_clusters += len(set(lab) - {-1})
    return {"seconds": time.perf_counter() - t, "cases": len(d), "clusters": n_clusters}


def _step_peak(fn) -> float:
    """Peak MB that numpy and Python allocate during ``fn()``, in a second, untimed run (tracemalloc slows it)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return peak


def dbscan_points(demo: str, n: int):
    import numpy as np

    d = load(demo, "all")
    d = d.iloc[np.random.default_rng(0).permutation(len(d))[:n]]
    return d["lon"].to_numpy(), d["lat"].to_numpy()


def dbscan_ours(demo: str, n: int) -> dict:
    import numpy as np

    from gridgeo.clusters import cluster_labels, project
    from gridgeo.profile import default_profile

    lon, lat = dbscan_points(demo, n)
    xy = project(lon, lat, default_profile().metric_crs)
    t = time.perf_counter()
    lab = cluster_labels(xy, eps_m=EPS, min_samples=K)
    sec = time.perf_counter() - t
    step_mb = _step_peak(lambda: cluster_labels(xy, eps_m=EPS, min_samples=K))
    np.save("/tmp/bench_dbscan_ours.npy", lab)
    return {"seconds": sec, "step_peak_mb": step_mb, "points": len(lon), "clusters": int(lab.max() + 1),
            "noise": int((lab < 0).sum())}


def dbscan_proj(demo: str, n: int) -> dict:
    """scikit-learn's DBSCAN on every point in the same projected coordinates: the label reference."""
    import numpy as np
    from sklearn.cluster import DBSCAN

    from gridgeo.clusters import project
    from gridgeo.profile import default_profile

    lon, lat = dbscan_points(demo, n)
    xy = project(lon, lat, default_profile().metric_crs)
    t = time.perf_counter()
    m = DBSCAN(eps=EPS, min_samples=K, algorithm="kd_tree").fit(xy)
    sec = time.perf_counter() - t
    np.save("/tmp/bench_dbscan_proj.npy", m.labels_)
    core = np.zeros(len(lon), bool)
    core[m.core_sample_indices_] = True
    np.save("/tmp/bench_dbscan_core.npy", core)
    return {"seconds": sec, "points": len(lon), "clusters": int(m.labels_.max() + 1), "noise": int((m.labels_ < 0).sum())}


def dbscan_base(demo: str, n: int) -> dict:
    import numpy as np
    from sklearn.cluster import DBSCAN

    lon, lat = dbscan_points(demo, n)
    rad = np.radians(np.column_stack([lat, lon]))

    def fit():
        return DBSCAN(eps=EPS / 6371008.8, min_samples=K, metric="haversine", algorithm="ball_tree").fit(rad)

    t = time.perf_counter()
    m = fit()
    sec = time.perf_counter() - t
    step_mb = _step_peak(fit)
    return {"seconds": sec, "step_peak_mb": step_mb, "points": len(lon), "clusters": int(m.labels_.max() + 1),
            "noise": int((m.labels_ < 0).sum())}


def child(mode: str, demo: str, arg: str) -> None:
    import resource

    fn = {"ours": ours, "baseline": baseline, "dbscan_ours": dbscan_ours, "dbscan_base": dbscan_base,
          "dbscan_proj": dbscan_proj}[mode]
    out = fn(demo, int(arg) if mode.startswith("dbscan") else arg)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run(mode: str, demo: str, arg) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", mode, demo, str(arg)], capture_output=True, text=True)
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr else f"exit {r.returncode}"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("demo")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--skip-year", action="store_true")
    ap.add_argument("--dbscan-only", action="store_true")
    a = ap.parse_args()
    for which in () if a.dbscan_only else ("month", *(() if a.skip_year else ("year",))):
        o, b = run("ours", a.demo, which), run("baseline", a.demo, which)
        print(f"{which}: gridgeo {o}\n{which}: baseline {b}")
        if "seconds" in o and "seconds" in b:
            print(f"{which}: speed-up {b['seconds'] / o['seconds']:.1f}x, memory {o['peak_mb'] / b['peak_mb']:.2f} of baseline")
    o, b, r = (run(m, a.demo, a.points) for m in ("dbscan_ours", "dbscan_base", "dbscan_proj"))
    print(f"dbscan {a.points}: gridgeo {o}\ndbscan {a.points}: baseline haversine {b}\ndbscan {a.points}: sklearn projected {r}")
    if "seconds" in o and "seconds" in b and "seconds" in r:
        import numpy as np

        lo, lr, core = (np.load(f"/tmp/bench_dbscan_{x}.npy") for x in ("ours", "proj", "core"))
        same_noise = bool(np.array_equal(lo < 0, lr < 0))
        pairs = set(zip(lo[core], lr[core]))
        same_core = len(pairs) == len(set(lo[core])) == len(set(lr[core]))
        print(f"dbscan {a.points}: speed-up {b['seconds'] / o['seconds']:.1f}x over haversine, "
              f"{r['seconds'] / o['seconds']:.1f}x over sklearn projected; DBSCAN-step memory "
              f"{o['step_peak_mb'] / b['step_peak_mb']:.2f} of haversine; process peak {o['peak_mb']:.0f} vs {b['peak_mb']:.0f} MB; "
              f"vs sklearn projected: noise identical {same_noise}, core partition identical {same_core}")


if __name__ == "__main__":
    main()
