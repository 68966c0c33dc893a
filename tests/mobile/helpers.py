"""Synthetic geotagged phone photos for the upload tests."""

from __future__ import annotations

import datetime as dt
import uuid

from PIL import ExifTags

from tests.photo_evidence.photos import exif_block, jpeg_bytes, pattern, rat

GPS = ExifTags.GPS
BASE = ExifTags.Base


def _dms(value: float):
    value = abs(value)
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = (minutes_full - minutes) * 60
    return rat(degrees), rat(minutes), rat(round(seconds * 10000), 10000)


def geotagged_jpeg(
    lat: float,
    lon: float,
    *,
    taken: dt.datetime | None = None,
    seed: int = 1,
    size: tuple[int, int] = (640, 480),
) -> bytes:
    """A real JPEG with GPS (WGS84) and DateTimeOriginal + offset, like a phone writes."""
    taken = taken or dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    gps = {
        GPS.GPSLatitudeRef: "N" if lat >= 0 else "S",
        GPS.GPSLatitude: _dms(lat),
        GPS.GPSLongitudeRef: "E" if lon >= 0 else "W",
        GPS.GPSLongitude: _dms(lon),
        GPS.GPSAltitudeRef: 0,
        GPS.GPSAltitude: rat(1234),
    }
    exif_ifd = {
        BASE.DateTimeOriginal: taken.strftime("%Y:%m:%d %H:%M:%S"),
        BASE.OffsetTimeOriginal: "+08:00",
    }
    exif = exif_block(gps=gps, exif_ifd=exif_ifd, base={BASE.Make: "Xiaomi", BASE.Model: "Redmi Note 12"})
    return jpeg_bytes(image=pattern(size, seed=seed), exif=exif)


def new_id() -> str:
    """A client-generated UUID."""
    return str(uuid.uuid4())
