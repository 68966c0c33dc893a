"""Synthetic geotagged site photos for the demo county: Pillow-drawn JPEGs with the EXIF a phone writes.

Pure (no database).  The pictures are obviously drawn (sky, ground, earthworks, a rising building), so
nobody mistakes them for evidence; their EXIF carries WGS84 GPS, the capture time with its +08:00
offset and a camera model, so the photo pipeline treats them like a phone's.  The scene depends on the
stage of the works (``before``, ``during``, ``after``) and on a seed; every seed gives a different
layout, so the pipeline's near-duplicate check does not flag two demo photos as the same picture.
"""

from __future__ import annotations

import datetime as dt
import io
import random

from PIL import ExifTags, Image, ImageDraw
from PIL.TiffImagePlugin import IFDRational

#: Pixel size of the demo photos (4:3, like a phone's main camera at a modest setting).
PHOTO_SIZE = (1600, 1200)
STAGES = ("before", "during", "after")
CHINA_TZ = dt.timezone(dt.timedelta(hours=8))
_GPS = ExifTags.GPS
_BASE = ExifTags.Base


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = ((value - degrees) * 60 - minutes) * 60
    return IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(round(seconds * 10000), 10000)


def phone_exif(
    lat: float,
    lon: float,
    local_time: dt.datetime,
    *,
    make: str,
    model: str,
    software: str | None = None,
    orientation: int | None = None,
    altitude_m: float = 1200.0,
) -> Image.Exif:
    """EXIF as a phone writes it: camera, GPS (WGS84), DateTimeOriginal in Beijing time with its offset."""
    exif = Image.Exif()
    exif[_BASE.Make] = make
    exif[_BASE.Model] = model
    if software is not None:
        exif[_BASE.Software] = software
    if orientation is not None:
        exif[_BASE.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif).update(
        {
            _BASE.DateTimeOriginal: local_time.strftime("%Y:%m:%d %H:%M:%S"),
            _BASE.OffsetTimeOriginal: "+08:00",
        }
    )
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {
            _GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
            _GPS.GPSLatitude: _dms(lat),
            _GPS.GPSLongitudeRef: "E" if lon >= 0 else "W",
            _GPS.GPSLongitude: _dms(lon),
            _GPS.GPSAltitudeRef: 0,
            _GPS.GPSAltitude: IFDRational(round(altitude_m * 10), 10),
        }
    )
    return exif


def photo_exif(lat: float, lon: float, taken: dt.datetime, *, altitude_m: float = 1200.0) -> Image.Exif:
    """The demo photos' EXIF: :func:`phone_exif` of a synthetic camera, at ``taken`` in Beijing time."""
    return phone_exif(
        lat,
        lon,
        taken.astimezone(CHINA_TZ),
        make="Sitewatch",
        model="演示合成照片",
        software="sitewatch demo (synthetic)",
        altitude_m=altitude_m,
    )


def _shade(rng: random.Random, base: tuple[int, int, int], spread: int = 30) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-spread, spread))) for c in base)  # type: ignore[return-value]


def draw_scene(stage: str, seed: int, size: tuple[int, int] = PHOTO_SIZE) -> Image.Image:
    """A drawn construction-site scene at one stage of the works."""
    if stage not in STAGES:
        raise ValueError(f"stage should be one of {STAGES}, not {stage!r}")
    rng = random.Random(f"{stage}/{seed}")
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.25, 0.6))
    sky_top, sky_low = _shade(rng, (95, 150, 215), 40), _shade(rng, (200, 215, 230), 25)
    for y in range(horizon):
        t = y / max(horizon - 1, 1)
        colour = tuple(int(a + (b - a) * t) for a, b in zip(sky_top, sky_low, strict=True))
        draw.line([(0, y), (width, y)], fill=colour)
    # Loess hills behind the site, then the ground.
    for _ in range(rng.randint(2, 4)):
        cx, r = rng.uniform(-0.2, 1.2) * width, rng.uniform(0.2, 0.6) * width
        top = horizon - rng.uniform(0.05, 0.25) * height
        draw.ellipse(
            [cx - r, top, cx + r, top + 2 * (horizon - top) + 40], fill=_shade(rng, (150, 135, 100), 35)
        )
    ground = _shade(rng, (160, 130, 90) if stage != "after" else (120, 120, 115), 30)
    draw.rectangle([0, horizon, width, height], fill=ground)
    # Big blocks at random places: what makes one photo differ from the next at a glance.
    for _ in range(rng.randint(3, 6)):
        x0, y0 = rng.uniform(-0.2, 0.9) * width, rng.uniform(0.0, 0.9) * height
        w, h = rng.uniform(0.15, 0.6) * width, rng.uniform(0.08, 0.4) * height
        tone = rng.choice(((60, 55, 50), (210, 200, 185), (110, 90, 60), (170, 175, 180)))
        draw.rectangle([x0, y0, x0 + w, y0 + h], fill=_shade(rng, tone, 25))
    if stage == "before":
        for _ in range(rng.randint(3, 7)):  # spoil heaps
            cx, cy = rng.uniform(0, width), rng.uniform(horizon, height)
            r = rng.uniform(60, 260)
            draw.polygon(
                [(cx - r, cy), (cx, cy - r * 0.7), (cx + r, cy)], fill=_shade(rng, (130, 100, 70), 30)
            )
    if stage in ("during", "after"):
        floors = rng.randint(2, 5) if stage == "during" else rng.randint(5, 12)
        bx, bw = rng.uniform(0.05, 0.55) * width, rng.uniform(0.25, 0.4) * width
        floor_h = rng.uniform(40, 70)
        base_y = horizon + rng.uniform(0.1, 0.3) * (height - horizon)
        facade = _shade(rng, (200, 195, 185) if stage == "after" else (150, 150, 150), 20)
        draw.rectangle([bx, base_y - floors * floor_h, bx + bw, base_y], fill=facade)
        for f in range(floors):
            for k in range(int(bw // 70)):
                x = bx + 20 + k * 70
                y = base_y - (f + 1) * floor_h + 12
                draw.rectangle([x, y, x + 35, y + floor_h * 0.45], fill=(70, 90, 110))
    if stage == "during":  # a tower crane
        cx = rng.uniform(0.1, 0.9) * width
        top = rng.uniform(0.05, 0.2) * height
        draw.rectangle([cx - 12, top, cx + 12, horizon + 80], fill=(230, 180, 30))
        draw.rectangle(
            [cx - rng.uniform(200, 500), top, cx + rng.uniform(300, 700), top + 18], fill=(230, 180, 30)
        )
    return image


def photo_jpeg(
    stage: str,
    seed: int,
    *,
    lat: float,
    lon: float,
    taken: dt.datetime,
    size: tuple[int, int] = PHOTO_SIZE,
    quality: int = 85,
) -> bytes:
    """A demo site photo as JPEG bytes, geotagged at (lat, lon) and stamped with ``taken``."""
    out = io.BytesIO()
    draw_scene(stage, seed, size).save(out, "JPEG", quality=quality, exif=photo_exif(lat, lon, taken))
    return out.getvalue()
