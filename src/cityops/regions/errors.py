"""Errors the regions domain raises; message templates live in core/messages.py under the same codes."""

from __future__ import annotations

from cityops.core.errors import DomainError, NotFound


class PointOutsideRegions(DomainError):
    """A point lies in no region at all (raise with lng= and lat= for the message)."""

    code = "regions.point_outside"
    status = 404


class UnknownRegion(NotFound):
    """A region code that does not exist (raise with region_code= for the message)."""

    code = "regions.unknown_code"
