"""The pages' vendored JavaScript and CSS: the built files of the npm packages installed at set-up.

``make vendor`` runs ``npm ci --prefix server/web/vendor`` from the committed lock file; the app serves
only the ``dist`` folders named here under ``/vendor/<package>/``, never a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)

VENDOR_ROOT = Path(__file__).resolve().parent / "web" / "vendor" / "node_modules"

#: URL name -> the folder of built files inside node_modules.
VENDOR_DIRS: dict[str, str] = {
    "leaflet": "leaflet/dist",
    "leaflet.markercluster": "leaflet.markercluster/dist",
    "leaflet.vectorgrid": "leaflet.vectorgrid/dist",
    "chart.js": "chart.js/dist",
}

MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


def vendor_file(package: str, path: str, *, root: Path = VENDOR_ROOT) -> Path | None:
    """The file ``path`` of a served package, or None (unknown package or file, or outside its folder)."""
    folder = VENDOR_DIRS.get(package)
    if folder is None or Path(path).suffix not in MEDIA_TYPES:
        return None
    base = (root / folder).resolve()
    candidate = (base / path).resolve()
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def missing_packages(root: Path = VENDOR_ROOT) -> list[str]:
    """Served packages that are not installed (run ``make vendor``)."""
    return [name for name, folder in VENDOR_DIRS.items() if not (root / folder).is_dir()]
