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
    jpeg_header_dimensions,
    open_photo,
    too_many_pixels,
)

#: Longest sides, in pixels, of the derivatives made by default (list thumbnail, detail view).
#: 1000, not more, for the detail view: a 12 MP phone photo (4000 x 3000) then decodes at 1/4 scale
#: (1000 x 750) straight from the DCT, and 50 MP and larger at 1/8; at 1280 a 12 MP photo needs the
#: 1/2-scale decode (4x the pixels) plus a resampling pass.  1000 px fills a phone screen's width
#: and a desktop lightbox; the original stays available byte for byte.
DEFAULT_SIZES = (320, 1000)
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


def pixel_limit_from_head(head: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int] | None:
    """Check the pixel limit from the first bytes of an upload, before the rest has even arrived.

    Returns the JPEG's stored (width, height) once ``head`` reaches its frame header; None when more
    bytes are needed, or when the file is not a JPEG or its markers are broken (the full checks on the
    whole file then decide).  Raises ``too_many_pixels`` above the limit.
    """
    if not head.startswith(b"\xff\xd8\xff"):
        return None
    try:
        width, height = jpeg_header_dimensions(io.BytesIO(head))
    except PhotoRejected:
        return None
    if width * height > max_pixels:
        raise too_many_pixels(width, height, max_pixels)
    return width, height


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


def shrink(image: Image.Image, size: int) -> Image.Image:
    """``image`` with its longest side brought down to ``size`` (never upscaled; the same image if it fits).

    Integer box reduction first (``reducing_gap=1``), then BICUBIC over the remaining factor (< 2):
    what Pillow's own ``thumbnail`` does, at a quarter of the cost of LANCZOS over the whole factor.
    """
    scale = size / max(image.size)
    if scale >= 1.0:
        return image
    target = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(target, Image.Resampling.BICUBIC, reducing_gap=1.0)


def encode_jpeg(image: Image.Image, *, icc: bytes | None = None) -> bytes:
    """A derivative as JPEG bytes (quality :data:`DERIVATIVE_QUALITY`, the colour profile kept, no EXIF)."""
    out = io.BytesIO()
    # optimize=False: Pillow then encodes in chunks and releases the GIL between them, so the
    # server's event loop is not stalled by a long encoder call (derivatives ~5 % larger).
    options: dict[str, object] = {"quality": DERIVATIVE_QUALITY, "optimize": False}
    if icc:
        options["icc_profile"] = icc
    image.save(out, "JPEG", **options)
    return out.getvalue()


def make_derivatives(
    path: PathOrFile, *, sizes: tuple[int, ...] = DEFAULT_SIZES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> dict[int, bytes]:
    """Make upright JPEG derivatives whose longest side is each size (never upscaled), keyed by size.

    One reduced-scale decode serves all sizes, and each smaller size is made from the previous one
    (the thumbnail from the preview, never from the decode).  The derivatives carry the colour
    profile but no EXIF (no GPS): the original file stays the evidence.
    """
    if not sizes:
        return {}
    base = load_reduced(path, max(sizes), max_pixels=max_pixels)
    icc = base.info.get("icc_profile")
    derivatives: dict[int, bytes] = {}
    source = base
    for size in sorted(set(sizes), reverse=True):
        source = shrink(source, size)
        derivatives[size] = encode_jpeg(source, icc=icc)
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
