"""Benchmark of the foundation stage (not a test): ingest of a month-sized GBK CSV, and `gridgeo demo`.

Usage: python benchmarks/bench_foundation.py [--out benchmarks/out] [--repeat 3]

1. Writes the demo's June 2024 (213,025 cases) as a GBK CSV export with Chinese headers and GCJ-02
   coordinates, the way a Kunming platform export looks.
2. Times, in the same run and alternating, plain `pandas.read_csv(path, encoding="gbk")` of that file
   and `gridgeo ingest FILE --crs gcj02` (decode, map headers, parse dates, convert coordinates,
   validate, write the GeoParquet store), each in a fresh subprocess so peak memory is its own.
3. Times `gridgeo demo` for the six months, with its peak memory.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

HEADERS = {"case_id": "案件编号", "source": "问题来源", "kind": "问题类型", "major": "大类名称", "minor": "小类名称",
           "description": "问题描述", "address": "地址", "x": "X坐标", "y": "Y坐标", "reported_at": "上报时间",
           "registered_at": "立案时间", "dispatched_at": "派遣时间", "deadline": "处置截止时间",
           "closed_at": "结案时间", "status": "当前阶段", "area": "所属区", "street": "街道", "community": "社区",
           "grid_code": "单元网格"}


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of a command run in its own process."""
    code = ("import resource,subprocess,sys,time,json;t=time.perf_counter();"
            "r=subprocess.run(sys.argv[1:]);"
            "print(json.dumps([time.perf_counter()-t,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024,r.returncode]))")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    wall, rss, rc = json.loads(out.stdout.strip().splitlines()[-1])
    if rc:
        raise SystemExit(f"{cmd} failed with {rc}")
    return wall, rss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/out")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    gridgeo = str(Path(sys.executable).with_name("gridgeo"))

    t, rss = run([gridgeo, "demo", "--out", str(out / "demo")])
    print(f"gridgeo demo (6 months): {t:.1f} s, peak {rss:.0f} MB")

    import pandas as pd

    from gridgeo.crs import wgs84_to_gcj02

    june = pd.read_parquet(out / "demo" / "cases" / "2024-06.parquet")
    x, y = wgs84_to_gcj02(june["lon"].to_numpy(), june["lat"].to_numpy())
    june["x"], june["y"] = x.round(6), y.round(6)
    export = june[list(HEADERS)].rename(columns=HEADERS)
    for c in ("上报时间", "立案时间", "派遣时间", "处置截止时间", "结案时间"):
        export[c] = export[c].dt.strftime("%Y-%m-%d %H:%M:%S")
    csv = out / "export-2024-06-gbk.csv"
    export.to_csv(csv, index=False, encoding="gbk")
    print(f"export: {len(export):,} rows, {csv.stat().st_size / 1e6:.1f} MB")

    rc = "import pandas as pd,sys; pd.read_csv(sys.argv[1], encoding='gbk')"
    rows = []
    for i in range(args.repeat):
        t_pd, m_pd = run([sys.executable, "-c", rc, str(csv)])
        shutil.rmtree(out / f"store{i}", ignore_errors=True)
        t_gg, m_gg = run([gridgeo, "ingest", str(csv), "--crs", "gcj02", "--out", str(out / f"store{i}")])
        rows.append((t_pd, m_pd, t_gg, m_gg))
        print(f"run {i + 1}: pandas.read_csv {t_pd:.2f} s ({m_pd:.0f} MB)   gridgeo ingest {t_gg:.2f} s ({m_gg:.0f} MB)"
              f"   ratio {t_gg / t_pd:.2f}")
    best = min(rows, key=lambda r: r[2])
    med = sorted(rows, key=lambda r: r[2] / r[0])[len(rows) // 2]
    print(f"median ratio ingest / read_csv: {med[2] / med[0]:.2f}  (best ingest {best[2]:.2f} s)")
    stored = pd.read_parquet(out / "store0" / "cases" / "2024-06.parquet")
    print(f"stored {len(stored):,} cases; rejects: {list((out / 'store0').glob('rejects/*'))}")


if __name__ == "__main__":
    main()
