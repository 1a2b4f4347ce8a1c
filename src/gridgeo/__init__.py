"""gridgeo: hotspot analysis, maps and monthly bulletins for city grid-management (数字城管) cases."""

from importlib.metadata import PackageNotFoundError, version

from gridgeo.errors import BoundaryError, CalibrationError, CRSError, GridgeoError, InputError, ProfileError

try:
    __version__ = version("gridgeo")
except PackageNotFoundError:  # running from a source checkout
    __version__ = "0.0.0+unknown"

__all__ = ["BoundaryError", "CalibrationError", "CRSError", "GridgeoError", "InputError", "ProfileError",
           "__version__"]
