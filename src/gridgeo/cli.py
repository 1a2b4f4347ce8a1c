"""The ``gridgeo`` command: argument parsing, logging and progress bars; no analysis logic."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from gridgeo import __version__
from gridgeo.errors import GridgeoError

log = logging.getLogger("gridgeo")


def _progress(total: int, desc: str, unit: str):
    """A tqdm bar on a terminal, nothing otherwise; returns (update, close)."""
    if not sys.stderr.isatty():
        return (lambda *_: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit=unit, leave=False)
    return (lambda k=1: bar.update(k if isinstance(k, int) else 1)), bar.close


def cmd_demo(args: argparse.Namespace) -> int:
    from gridgeo.bulletin import write_bulletin
    from gridgeo.demo import run_demo
    from gridgeo.hotspots import write_hotspots
    from gridgeo.maps import write_maps
    from gridgeo.profile import default_profile, load_profile

    if args.scale <= 0 or args.scale > 1:
        raise GridgeoError(f"--scale must be in (0, 1], got {args.scale}")
    profile = load_profile(args.profile) if args.profile else default_profile()
    months = list(profile.demo["months"])
    t0 = time.perf_counter()
    update, close = _progress(len(months), "生成演示数据", "月")
    try:
        written = run_demo(args.out, seed=args.seed, scale=args.scale, profile=profile, progress=update)
    finally:
        close()
    for m, n in written.items():
        print(f"写入 {Path(args.out) / 'cases' / (m + '.parquet')}：{n:,} 件案件")
    update, close = _progress(len(written), "热点分析、地图与通报", "月")
    try:
        for m in written:
            write_hotspots(args.out, m, args.out, profile=profile)
            print(f"写入 {Path(args.out) / 'hotspots' / m}.gpkg")
            write_maps(args.out, m, args.out, profile=profile)
            print(f"写入 {Path(args.out) / 'maps' / m}/（{len(profile.areas)} 个区属与 city.html）")
            write_bulletin(args.out, m, args.out, profile=profile)
            print(f"写入 {Path(args.out) / 'bulletin' / m}.{{json,md,html,docx}}")
            update()
    finally:
        close()
    print(f"演示完成：{len(written)} 个月，共 {sum(written.values()):,} 件，用时 {time.perf_counter() - t0:.1f} 秒")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from gridgeo.crs import parse_crs
    from gridgeo.ingest import ingest_files
    from gridgeo.profile import default_profile, load_profile

    profile = load_profile(args.profile) if args.profile else default_profile()
    crs = parse_crs(args.crs) if args.crs else None
    overrides = None
    if args.mapping:
        overrides = _read_mapping(args.mapping)
    report = ingest_files(args.files, store=args.out, crs=crs, profile=profile, overrides=overrides)
    rej = sum(report.rejected.values())
    print(f"读取 {report.read:,} 行；入库 {report.stored:,} 件；拒收 {rej:,} 行")
    for reason, k in sorted(report.rejected.items(), key=lambda kv: -kv[1]):
        print(f"  拒收原因 {reason}：{k:,}")
    if report.swapped:
        print(f"  坐标两轴互换并已纠正：{report.swapped:,}")
    if report.outside:
        print(f"  坐标超出城市范围（已置空，案件保留）：{report.outside:,}")
    if report.dropped_personal:
        print(f"  未入库的个人信息列：{', '.join(report.dropped_personal)}")
    for m in sorted(report.months):
        print(f"  写入 {Path(args.out) / 'cases' / (m + '.parquet')}")
    for f in report.reject_files:
        print(f"  拒收清单 {f}")
    return 0


def cmd_maps(args: argparse.Namespace) -> int:
    from gridgeo.maps import write_maps
    from gridgeo.profile import load_profile

    profile = load_profile(args.profile) if args.profile else None
    entries = write_maps(args.store, args.month, args.out, profile=profile, area=args.area, basemap=args.basemap,
                         tianditu_key=args.tianditu_key, offline_assets=args.offline_assets)
    for e in entries:
        print(f"写入 {Path(args.out) / 'maps' / e['file']}：{e['area']} {e['cases']:,} 件")
    print(f"写入 {Path(args.out) / 'maps' / 'index.html'}")
    return 0


def cmd_bulletin(args: argparse.Namespace) -> int:
    from gridgeo.bulletin import read_scores, write_bulletin
    from gridgeo.profile import load_profile

    profile = load_profile(args.profile) if args.profile else None
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    scores = read_scores(args.scores) if args.scores else None
    b = write_bulletin(args.store, args.month, args.out, formats=formats, profile=profile, scores=scores,
                       denominator=args.denominator)
    print(f"读取 {args.store}：{args.month} 立案 {b['registered']:,} 件")
    for f in formats:
        print(f"写入 {Path(args.out) / 'bulletin' / f'{args.month}.{f}'}")
    return 0


def cmd_hotspots(args: argparse.Namespace) -> int:
    from gridgeo.hotspots import write_hotspots
    from gridgeo.profile import load_profile

    profile = load_profile(args.profile) if args.profile else None
    if args.resolution not in range(7, 11):
        raise GridgeoError(f"--resolution must be 7 to 10, got {args.resolution}")
    layers = write_hotspots(args.store, args.month, args.out, profile=profile, area=args.area, minor=args.minor,
                          resolution=args.resolution, eps_m=args.eps, min_samples=args.min_samples, method=args.method)
    cells = layers["cells"]
    rep = layers["geocode"]
    print(f"读取 {args.store}：{args.month}，对比月份 {', '.join(layers['months'])}")
    print("地理编码：" + "，".join(f"{k} {v:,}" for k, v in rep.methods.items()))
    if rep.area_disagrees or rep.street_disagrees:
        print(f"  坐标与平台所填区属不一致 {rep.area_disagrees:,} 件，街道不一致 {rep.street_disagrees:,} 件")
    print(f"H3 网格 {len(cells):,} 个（分辨率 {args.resolution}），显著热点 {(cells['gi_bin'] > 0).sum():,} 个，"
          f"显著冷点 {(cells['gi_bin'] < 0).sum():,} 个；聚类 {len(layers['clusters']):,} 个")
    print(f"写入 {Path(args.out) / 'hotspots' / (args.month + '.gpkg')}（图层 cells, clusters, case_clusters, emerging）")
    return 0


def _read_mapping(path: str) -> dict[str, str]:
    """A mapping file: JSON {"raw header": "canonical"} or CSV with columns header,column."""
    p = Path(path)
    if not p.is_file():
        raise GridgeoError(f"{p}: mapping file not found")
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise GridgeoError(f"{p}: not valid JSON ({e.msg}, line {e.lineno})") from None
        return {str(k): str(v) for k, v in data.items()}
    rows = [line.split(",") for line in text.splitlines() if line.strip()]
    if rows and rows[0][0].strip().lower() == "header":
        rows = rows[1:]
    bad = [i + 2 for i, r in enumerate(rows) if len(r) != 2]
    if bad:
        raise GridgeoError(f"{p}: rows {bad[:5]} do not have two columns (header,column)")
    return {r[0].strip(): r[1].strip() for r in rows}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridgeo", description="城市网格化管理案件的热点分析、地图与月度通报")
    p.add_argument("--version", action="version", version=f"gridgeo {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug, tracebacks)")
    p.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = sub.add_parser("demo", help="generate the calibrated demo months and run every output stage")
    d.add_argument("--out", required=True, help="output folder (created)")
    d.add_argument("--seed", type=int, default=None, help="random seed (default: the calibration's)")
    d.add_argument("--scale", type=float, default=1.0, help="shrink case counts by this factor (0 < F ≤ 1)")
    d.add_argument("--profile", help="city profile TOML (default: the shipped Kunming profile)")
    d.set_defaults(func=cmd_demo)

    i = sub.add_parser("ingest", help="read case exports into a store: STORE/cases/YYYY-MM.parquet + rejects")
    i.add_argument("files", nargs="+", help="CSV, XLSX, Parquet, GeoJSON, GeoPackage or Shapefile exports")
    i.add_argument("--crs", help="coordinates' system: wgs84, cgcs2000, gcj02, bd09 or EPSG:NNNN "
                                 "(default: the file's own CRS, else wgs84)")
    i.add_argument("--out", required=True, help="the store folder")
    i.add_argument("--mapping", help="header mapping file (JSON or CSV header,column) overriding the built-in aliases")
    i.add_argument("--profile", help="city profile TOML (default: the shipped Kunming profile)")
    i.set_defaults(func=cmd_ingest)

    h = _store_command(sub, "hotspots", "H3 bins, Gi* hot cells (FDR), DBSCAN clusters and emerging hotspots",
                       "OUT/hotspots/<month>.gpkg and CSV summaries")
    h.add_argument("--area", help="one management area only, e.g. 官渡区")
    h.add_argument("--class", dest="minor", help="one minor class only, e.g. 非法小广告")
    h.add_argument("--resolution", type=int, default=9, help="H3 resolution 7–10 (default 9)")
    h.add_argument("--eps", type=float, help="DBSCAN eps in metres (default: per class, data/cluster-params.csv)")
    h.add_argument("--min-samples", type=int, help="DBSCAN min_samples in cases (default: per class)")
    h.add_argument("--method", choices=["dbscan", "hdbscan"], default="dbscan")
    h.set_defaults(func=cmd_hotspots)

    mp = _store_command(sub, "maps", "interactive maps per management area and month (folium HTML)",
                        "OUT/maps/<month>/<area>.html, city.html and OUT/maps/index.html")
    mp.add_argument("--area", help="one management area only, e.g. 官渡区")
    mp.add_argument("--basemap", choices=["amap", "osm", "tianditu", "none"], default="amap",
                    help="tiles: amap (GCJ-02, layers shifted), osm, tianditu (needs --tianditu-key), none (offline)")
    mp.add_argument("--tianditu-key", help="天地图 key for --basemap tianditu")
    mp.add_argument("--offline-assets", action="store_true",
                    help="copy Leaflet's JS/CSS beside the maps and use them instead of a CDN (intranet use)")
    mp.set_defaults(func=cmd_maps)

    b = _store_command(sub, "bulletin", "write the monthly bulletin (通报) as JSON, Markdown, HTML and Word",
                       "OUT/bulletin/<month>.<format>")
    b.add_argument("--format", default="json,md,html,docx", help="comma-separated: json, md, html, docx")
    b.add_argument("--scores", help="official score table (CSV with 区属, 得分) for section 一")
    b.add_argument("--denominator", choices=["registered", "due"], default="registered",
                   help="closure rates over cases registered (Kunming) or cases due in the month (应结案数)")
    b.set_defaults(func=cmd_bulletin)
    return p


def _store_command(sub, name: str, help_text: str, writes: str) -> argparse.ArgumentParser:
    """A command that reads a store for one month: STORE --month YYYY-MM --out DIR [--profile TOML]."""
    c = sub.add_parser(name, help=help_text)
    c.add_argument("store", help="the store folder (or the --out of gridgeo demo)")
    c.add_argument("--month", required=True, help="YYYY-MM")
    c.add_argument("--out", required=True, help=f"output folder; writes {writes}")
    c.add_argument("--profile", help="city profile TOML (default: the shipped Kunming profile)")
    return c


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("gridgeo").setLevel(logging.ERROR if args.quiet else level)
    try:
        return int(args.func(args) or 0)
    except GridgeoError as e:
        if args.verbose:
            raise
        print(f"gridgeo {args.command}: 错误：{e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("gridgeo: 已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
