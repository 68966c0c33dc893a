"""Pixel work on evidence photos: the pixel limit, reduced-scale thumbnails, perceptual and file hashes.

Every function checks the pixel limit from the header before any decoding.  JPEGs are decoded at
reduced scale (libjpeg's DCT scaling, 1/2, 1/4 or 1/8, via ``Image.draft``), so a 50 MP photo never
becomes a 150 MB bitmap.  HEIC has no such mode: pillow-heif decodes the primary image in full.  We
deliberately do not use its embedded thumbnails (``draft`` on HEIF), since a crafted file could carry
a thumbnail showing another scene; the full decode is bounded by the same pixel limit.

``PIL.Image.MAX_IMAGE_PIXELS`` is set by :mod:`server.photo_evidence.exif` (see there).
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import IO

import imagehash
from PIL import Image, ImageOps

from server.photo_evidence.exif import (
    DEFAULT_MAX_PIXELS,
    FORMAT_JPEG,
    PhotoRejected,
    failure_code,
    open_photo,
)

#: Longest sides, in pixels, of the derivatives made by default (list thumbnail, detail view).
DEFAULT_SIZES = (320, 1280)
#: JPEG quality of the derivatives.
DERIVATIVE_QUALITY = 82
#: Decode size for perceptual hashing (phash itself works on 32 x 32).
PHASH_DECODE_SIZE = 256
#: Hamming distance (of 64 bits) at or below which two photos are near-duplicates.
NEAR_DUPLICATE_MAX_DISTANCE = 10

_CHUNK = 1024 * 1024

PathOrFile = str | os.PathLike[str] | IO[bytes]


def check_pixel_limit(path_or_file: PathOrFile, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """Return the stored (width, height) from the header; raise ``too_many_pixels`` above the limit.

    No pixel is decoded: for JPEG the size comes from the SOF marker before Pillow is involved.
    """
    with open_photo(path_or_file, max_pixels=max_pixels) as (image, _fmt):
        return image.size


def _decode(image: Image.Image) -> None:
    """Decode the pixels, turning decoder failures into ``truncated`` / ``corrupt``."""
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise PhotoRejected("too_many_pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError, RuntimeError) as exc:
        raise PhotoRejected(failure_code(exc)) from exc


def load_reduced(path_or_file: PathOrFile, size: int, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode a photo upright in RGB, JPEG at the smallest DCT scale whose both sides stay >= ``size``.

    A 4000 x 3000 JPEG asked for 320 decodes at 1/8 (500 x 375); HEIC decodes in full.  The result
    is not resized further.
    """
    if size < 1:
        raise ValueError("size must be positive")
    with open_photo(path_or_file, max_pixels=max_pixels) as (image, fmt):
        if fmt == FORMAT_JPEG:
            # Ask for the box whose LONGEST side is ``size``: libjpeg then picks the smallest DCT scale
            # that keeps the longest side >= size (a square box would keep the short side >= size).
            width, height = image.size
            longest = max(width, height)
            image.draft("RGB", (max(1, -(-size * width // longest)), max(1, -(-size * height // longest))))
        _decode(image)
        orientation = image.getexif().get(0x0112, 1)
        # exif_transpose copies the whole image even when nothing turns; only call it when needed.
        upright = ImageOps.exif_transpose(image) if orientation in range(2, 9) else image
        # An ICC profile only describes RGB output when the decoded pixels were RGB (not CMYK / L).
        icc = image.info.get("icc_profile") if upright.mode == "RGB" else None
        result = upright if upright.mode == "RGB" else upright.convert("RGB")
        if result is image:
            result = image.copy()
    result.info.pop("icc_profile", None)
    if icc:
        result.info["icc_profile"] = icc
    return result


def make_derivatives(
    path: PathOrFile, *, sizes: tuple[int, ...] = DEFAULT_SIZES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> dict[int, bytes]:
    """Make upright JPEG derivatives whose longest side is each size (never upscaled), keyed by size.

    One reduced-scale decode serves all sizes.  The derivatives carry the colour profile but no
    EXIF (no GPS): the original file stays the evidence.
    """
    if not sizes:
        return {}
    base = load_reduced(path, max(sizes), max_pixels=max_pixels)
    icc = base.info.get("icc_profile")
    derivatives: dict[int, bytes] = {}
    source = base
    for size in sorted(set(sizes), reverse=True):
        # Each smaller size is made from the previous one; never a copy of the full decode.
        scale = min(1.0, size / max(source.size))
        target = (max(1, round(source.width * scale)), max(1, round(source.height * scale)))
        image = source if target == source.size else source.resize(target, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # optimize=False: Pillow then encodes in chunks and releases the GIL between them, so the
        # server's event loop is not stalled by a long encoder call (derivatives ~7 % larger).
        options = {"quality": DERIVATIVE_QUALITY, "optimize": False}
        if icc:
            options["icc_profile"] = icc
        image.save(out, "JPEG", **options)
        derivatives[size] = out.getvalue()
        source = image
    return {size: derivatives[size] for size in sizes}


def perceptual_hash(path: PathOrFile, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """Return the 64-bit DCT perceptual hash (imagehash.phash) of the upright photo, as 16 hex digits."""
    image = load_reduced(path, PHASH_DECODE_SIZE, max_pixels=max_pixels)
    return str(imagehash.phash(image))


def hash_distance(a: str, b: str) -> int:
    """Hamming distance between two perceptual hashes in hex (0 = identical, 64 = opposite)."""
    if len(a) != len(b):
        raise ValueError("perceptual hashes of different lengths cannot be compared")
    return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))


def sha256_file(path: PathOrFile) -> str:
    """SHA-256 of a file in hex, read in 1 MiB chunks (file objects are read from the start)."""
    digest = hashlib.sha256()
    if isinstance(path, str | os.PathLike):
        with open(path, "rb") as fp:
            while chunk := fp.read(_CHUNK):
                digest.update(chunk)
    else:
        path.seek(0)
        while chunk := path.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
