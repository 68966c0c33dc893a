"""Synthetic test photos: JPEG/HEIC written by Pillow with EXIF and GPS tags, in a temporary directory."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

GPS = ExifTags.GPS
BASE = ExifTags.Base


def rat(numerator: float, denominator: int = 1) -> IFDRational:
    """An EXIF rational exactly as written (0/0 allowed)."""
    return IFDRational(numerator, denominator)


def dms(degrees: int, minutes: int, seconds: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Degrees, minutes, seconds as EXIF rationals (seconds in hundredths)."""
    return rat(degrees), rat(minutes), rat(round(seconds * 100), 100)


def pattern(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth random picture (low-frequency structure, like a real scene) of the given size."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    return Image.fromarray(small, "RGB").resize(size, Image.Resampling.BICUBIC)


def exif_block(
    *,
    gps: Mapping[int, Any] | None = None,
    exif_ifd: Mapping[int, Any] | None = None,
    base: Mapping[int, Any] | None = None,
) -> Image.Exif:
    """An EXIF block with IFD0, Exif IFD and GPS IFD (0x8825) entries."""
    exif = Image.Exif()
    for tag, value in (base or {}).items():
        exif[tag] = value
    if exif_ifd:
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        sub.update(exif_ifd)
    if gps:
        sub = exif.get_ifd(ExifTags.IFD.GPSInfo)
        sub.update(gps)
    return exif


def jpeg_bytes(
    size: tuple[int, int] = (64, 48),
    *,
    image: Image.Image | None = None,
    exif: Image.Exif | bytes | None = None,
    quality: int = 90,
    **tags: Any,
) -> bytes:
    """A small real JPEG; ``tags`` go to :func:`exif_block` unless ``exif`` is given."""
    picture = image if image is not None else pattern(size, seed=1)
    if exif is None and tags:
        exif = exif_block(**tags)
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": quality}
    if exif is not None:
        options["exif"] = exif
    picture.save(out, "JPEG", **options)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write bytes and return the path."""
    path.write_bytes(data)
    return path


def patch_sof_dimensions(data: bytes, width: int, height: int, *, marker: bytes = b"\xff\xc0") -> bytes:
    """Rewrite the frame header (SOF0, or ``marker``: SOF2 for progressive) to claim another size."""
    index = data.find(marker)
    assert index > 0, f"no {marker.hex()} marker"
    patched = bytearray(data)
    patched[index + 5 : index + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(patched)


def heic_bytes(size: tuple[int, int] = (64, 48), *, exif: Image.Exif | None = None) -> bytes:
    """A real HEIC encoded by pillow-heif (x265), with EXIF when given."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": 80}
    if exif is not None:
        options["exif"] = exif.tobytes()
    pattern(size, seed=2).save(out, "HEIF", **options)
    return out.getvalue()
