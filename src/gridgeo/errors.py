"""The exceptions gridgeo raises; each also subclasses the matching builtin so callers can catch either."""

from __future__ import annotations

__all__ = ["BoundaryError", "CRSError", "GridgeoError", "InputError", "ProfileError", "CalibrationError"]


class GridgeoError(Exception):
    """Base class of every error gridgeo raises on purpose; the CLI prints its message on one line."""


class InputError(GridgeoError, ValueError):
    """An input file or table that cannot be used (missing, unreadable, no recognisable columns)."""


class CRSError(GridgeoError, ValueError):
    """An unknown or unusable coordinate reference system."""


class BoundaryError(GridgeoError, ValueError):
    """A boundary layer that fails validation; the message lists every problem found."""


class ProfileError(GridgeoError, ValueError):
    """A city profile that is missing, malformed or names files that do not exist."""


class CalibrationError(GridgeoError, ValueError):
    """Calibration targets that contradict each other, so the demo cannot meet them exactly."""
