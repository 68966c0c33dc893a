"""Evidence photos: EXIF/GPS reading, pixel-safe thumbnails and hashes, the verdict (pure, no database)."""

from __future__ import annotations

from server.photo_evidence.exif import (
    DEFAULT_MAX_PIXELS,
    PhotoMetadata,
    PhotoRejected,
    detect_format,
    read_photo_metadata,
)
from server.photo_evidence.imaging import (
    check_pixel_limit,
    hash_distance,
    make_derivatives,
    perceptual_hash,
    sha256_file,
)
from server.photo_evidence.verdict import (
    DeviceFix,
    DuplicateRef,
    Reason,
    Severity,
    Verdict,
    VerdictStatus,
    assess_photo,
    distance_m,
    looks_gcj02_shifted,
)

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DeviceFix",
    "DuplicateRef",
    "PhotoMetadata",
    "PhotoRejected",
    "Reason",
    "Severity",
    "Verdict",
    "VerdictStatus",
    "assess_photo",
    "check_pixel_limit",
    "detect_format",
    "distance_m",
    "hash_distance",
    "looks_gcj02_shifted",
    "make_derivatives",
    "perceptual_hash",
    "read_photo_metadata",
    "sha256_file",
]
