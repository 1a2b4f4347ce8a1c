"""City profiles: the TOML file that names a city's boundary layers, reference tables, areas and calendar."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from gridgeo.errors import ProfileError
from gridgeo.schema import Categories, Sources

__all__ = ["Profile", "data_root", "default_profile", "load_profile"]

LAYERS = ("districts", "areas", "streets", "communities", "grids")


def data_root() -> Path:
    """Folder holding ``boundaries/``, ``data/`` and ``maps/``: inside the installed package, else the checkout."""
    pkg = Path(__file__).resolve().parent
    return pkg if (pkg / "data").is_dir() else pkg.parents[1]


@dataclass(frozen=True)
class LayerSpec:
    """Where a boundary layer lives and which of its columns hold code, name and parent code."""

    name: str
    path: Path
    code: str = "code"
    label: str | None = "name"
    parent: str | None = None
    area: str | None = None
    layer: str | None = None  # layer name inside a GeoPackage


@dataclass(frozen=True)
class Profile:
    """A city: its layers, metric CRS, extent, tables, management areas, calendar and demo settings."""

    path: Path
    name: str
    metric_crs: str
    extent: tuple[float, float, float, float]
    layers: dict[str, LayerSpec]
    categories_path: Path
    sources_path: Path
    areas: list[str]
    area_aliases: dict[str, str]
    zones: list[str]
    calendar: dict[str, Any] = field(default_factory=dict)
    demo: dict[str, Any] = field(default_factory=dict)
    cluster_params_path: Path | None = None

    @cached_property
    def categories(self) -> Categories:
        return Categories.read(self.categories_path)

    @cached_property
    def sources(self) -> Sources:
        return Sources.read(self.sources_path)

    def resolve(self, relative: str) -> Path:
        return (self.path.parent / relative).resolve()


def _require(cfg: dict, key: str, where: str) -> Any:
    if key not in cfg:
        raise ProfileError(f"{where}: missing key {key!r}; see the shipped profile data/profiles/kunming.toml")
    return cfg[key]


def load_profile(path: str | Path | None = None) -> Profile:
    """Read a profile TOML (default: the shipped Kunming profile) and check that its files exist."""
    p = Path(path) if path else data_root() / "data" / "profiles" / "kunming.toml"
    if not p.is_file():
        raise ProfileError(f"profile {p} not found: give the path of a profile TOML file")
    try:
        cfg = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"{p}: not valid TOML ({e})") from None
    base = p.parent
    problems = []
    layers = {}
    layer_cfg = _require(cfg, "layers", str(p))
    for name in LAYERS:
        if name not in layer_cfg:
            problems.append(f"layer {name!r} is not configured")
            continue
        lc = layer_cfg[name]
        lp = (base / lc["path"]).resolve()
        if not lp.exists():
            problems.append(f"layer {name!r}: file {lp} does not exist")
        layers[name] = LayerSpec(name, lp, lc.get("code", "code"), lc.get("name"), lc.get("parent"),
                                 lc.get("area"), lc.get("layer"))
    tables = _require(cfg, "tables", str(p))
    cat, src = (base / tables["categories"]).resolve(), (base / tables["sources"]).resolve()
    for t in (cat, src):
        if not t.is_file():
            problems.append(f"table {t} does not exist")
    if problems:
        raise ProfileError(f"{p}: " + "; ".join(problems))
    areas = _require(cfg, "areas", str(p))
    return Profile(
        path=p.resolve(),
        name=cfg.get("name", p.stem),
        metric_crs=_require(cfg, "metric_crs", str(p)),
        extent=tuple(_require(cfg, "extent", str(p))),
        layers=layers,
        categories_path=cat,
        sources_path=src,
        areas=list(_require(areas, "order", f"{p} [areas]")),
        area_aliases=dict(areas.get("aliases", {})),
        zones=list(areas.get("zones", [])),
        calendar=cfg.get("calendar", {}),
        demo=cfg.get("demo", {}),
        cluster_params_path=(base / tables["cluster_params"]).resolve() if "cluster_params" in tables else None,
    )


_DEFAULT: Profile | None = None


def default_profile() -> Profile:
    """The shipped Kunming profile (read once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_profile()
    return _DEFAULT
