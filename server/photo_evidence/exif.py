"""Reading a photo's EXIF and GPS tags from its header, without decoding a single pixel.

Only JPEG and HEIC/HEIF are accepted, recognised by their magic bytes (never by the file name).
Pillow's ``Image.open`` is lazy: it parses the header and stops, so ``getexif()`` and ``get_ifd()``
read the tags while the compressed pixels stay untouched.  Nothing here calls ``load()``.

Phone GPS is WGS84 (see ``gis_data.crs``); coordinates are reported exactly as written, with a list
of stable issue codes for everything odd.  Nothing is "corrected": a value that cannot be trusted is
reported as ``None`` together with the code that says why.

Importing this module sets ``PIL.Image.MAX_IMAGE_PIXELS`` (see :data:`DEFAULT_MAX_PIXELS`).
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import IO, Any

from PIL import ExifTags, Image, UnidentifiedImageError
from PIL.TiffImagePlugin import IFDRational

#: Largest photo accepted, in pixels (a 108 MP phone sensor is 12000 x 9000 = 108 M).
DEFAULT_MAX_PIXELS = 120_000_000

# Deliberate, process-wide: Pillow's own decompression-bomb guard warns above MAX_IMAGE_PIXELS and
# refuses above twice that.  Its default (~89.5 MP) would warn on legitimate 108 MP phone photos, so
# it is raised to our limit: an image that passes our check never triggers Pillow's warning, and an
# image over 2 x 120 MP is refused by Pillow itself (translated to ``too_many_pixels``) even if a
# caller passes a larger ``max_pixels``.  Our own check runs first for JPEG, from the SOF marker.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

#: Formats we accept, as reported in :attr:`PhotoMetadata.format`.
FORMAT_JPEG = "jpeg"
FORMAT_HEIC = "heic"

_PILLOW_FORMAT = {FORMAT_JPEG: "JPEG", FORMAT_HEIC: "HEIF"}

#: ISO-BMFF ``ftyp`` brands that mean an HEVC-coded HEIF image (Apple and Android "HEIC").
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
#: Generic HEIF brands: HEIC unless the file also declares AVIF (which we do not accept).
GENERIC_HEIF_BRANDS = frozenset({b"mif1", b"msf1", b"mif2"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})

#: Largest believable altitude in metres; above it is an unsigned wrap or garbage (4294967xxx).
MAX_ALTITUDE_M = 9000.0
#: Lowest believable altitude in metres (the Dead Sea shore is about -430 m).
MIN_ALTITUDE_M = -500.0

_HEAD_BYTES = 256

_MESSAGES = {
    "empty_file": "文件为空（0 字节），请重新上传照片。",
    "unsupported_format": "不支持的文件格式：只接受 JPEG 或 HEIC/HEIF 照片（按文件内容判断，不看扩展名）。",
    "truncated": "照片文件不完整（可能上传中断或被截断），请重新上传原始照片。",
    "corrupt": "照片文件已损坏，无法读取，请重新上传原始照片。",
    "too_many_pixels": "照片像素过多，超过系统上限，可能是恶意构造的文件。",
}


class PhotoRejected(ValueError):
    """A photo file that cannot be used at all, with a stable code and a Chinese message."""

    def __init__(self, code: str, message: str | None = None):
        message = message or _MESSAGES.get(code, "照片无法处理。")
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PhotoMetadata:
    """What a photo's header says: format, size, GPS, times and camera, with issue codes.

    ``width``/``height`` are as displayed (EXIF orientation applied; libheif applies HEIF rotations
    itself).  ``orientation`` is the EXIF Orientation tag as written (1-8).  ``taken_at`` is aware
    when an OffsetTimeOriginal was present (``taken_at_has_offset``), naive local camera time
    otherwise.  ``gps_time`` is UTC.
    """

    format: str
    width: int
    height: int
    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    gps_time: datetime | None = None
    taken_at: datetime | None = None
    taken_at_has_offset: bool = False
    make: str | None = None
    model: str | None = None
    orientation: int | None = None
    image_direction: float | None = None
    gps_issues: list[str] = field(default_factory=list)
    time_issues: list[str] = field(default_factory=list)
    exif_error: str | None = None

    @property
    def has_location(self) -> bool:
        """True when both latitude and longitude are usable."""
        return self.lat is not None and self.lon is not None


@dataclass(frozen=True)
class GpsReading:
    """The usable values of a GPS IFD and the codes of everything odd in it."""

    lat: float | None = None
    lon: float | None = None
    alt: float | None = None
    gps_time: datetime | None = None
    image_direction: float | None = None
    issues: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------------
# Format detection and opening


def detect_format(head: bytes) -> str | None:
    """Return ``"jpeg"``/``"heic"`` from a file's first bytes, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return FORMAT_JPEG
    if len(head) >= 12 and head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[0:4], "big")
        end = min(box_size, len(head)) if box_size >= 16 else 12
        brands = [head[8:12]] + [head[i : i + 4] for i in range(16, end - 3, 4)]
        if any(brand in HEIC_BRANDS for brand in brands):
            return FORMAT_HEIC
        if head[8:12] in GENERIC_HEIF_BRANDS and not any(brand in _AVIF_BRANDS for brand in brands):
            return FORMAT_HEIC
    return None


_OTHER_SIGNATURES = (
    (b"\x89PNG", "PNG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "ZIP"),
)


def _other_format_name(head: bytes) -> str | None:
    """Name a common non-photo format for the message (PNG, GIF, WebP, AVIF, MP4/MOV...)."""
    for signature, name in _OTHER_SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        return "AVIF" if head[8:12] in _AVIF_BRANDS or b"avif" in head[16:64] else "MP4/MOV 视频"
    return None


def _unsupported(head: bytes) -> PhotoRejected:
    """The ``unsupported_format`` rejection, naming the real format when it is a common one."""
    name = _other_format_name(head)
    if name is None:
        return PhotoRejected("unsupported_format")
    return PhotoRejected(
        "unsupported_format",
        f"文件实际是 {name}，不是照片原图：只接受 JPEG 或 HEIC/HEIF 照片（按文件内容判断，不看扩展名）。"
        "请上传手机相机拍摄的原始照片。",
    )


@cache
def _register_heif_opener() -> None:
    """Register pillow-heif's HEIF opener with Pillow once (it decodes nothing until ``load()``)."""
    import pillow_heif

    pillow_heif.register_heif_opener()


_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xD8)})


#: Frame headers of progressive JPEGs (Huffman, arithmetic, differential).
_PROGRESSIVE_SOF_MARKERS = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
#: A progressive JPEG is decoded from a buffer of all its DCT coefficients, at any DCT scale: about
#: 3 bytes per pixel (4:2:0), 360 MB at the 120 MP limit.  Such files get this share of the pixel
#: limit (30 MP by default, about 90 MB).  Phones write baseline JPEGs.
PROGRESSIVE_LIMIT_SHARE = 4


@dataclass(frozen=True, slots=True)
class JpegFrame:
    """What a JPEG's frame header (SOFn) says."""

    width: int
    height: int
    progressive: bool

    def check(self, max_pixels: int) -> None:
        """Raise ``too_many_pixels`` above the limit (a quarter of it for progressive JPEGs)."""
        if self.progressive and self.width * self.height > max_pixels // PROGRESSIVE_LIMIT_SHARE:
            raise PhotoRejected(
                "too_many_pixels",
                f"照片为渐进式 JPEG（{self.width}×{self.height}，约 {self.width * self.height / 1e6:.0f} "
                f"百万像素），解码时须缓存整幅图像，超过渐进式照片的上限 "
                f"{max_pixels // PROGRESSIVE_LIMIT_SHARE / 1e6:.0f} 百万像素；请上传手机拍摄的原始照片。",
            )
        if self.width * self.height > max_pixels:
            raise too_many_pixels(self.width, self.height, max_pixels)


def jpeg_frame(fp: IO[bytes]) -> JpegFrame:
    """Walk a JPEG's marker segments up to the frame header and return what it says.

    Reads only segment headers (seeking over their payloads).  Raises :class:`PhotoRejected` with
    ``truncated`` when the file ends before the frame header and ``corrupt`` when it is not a
    marker stream.
    """
    fp.seek(0)
    if fp.read(2) != b"\xff\xd8":
        raise PhotoRejected("unsupported_format")
    while True:
        byte = fp.read(1)
        if not byte:
            raise PhotoRejected("truncated")
        if byte != b"\xff":
            raise PhotoRejected("corrupt")
        marker = fp.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fp.read(1)
        if not marker:
            raise PhotoRejected("truncated")
        code = marker[0]
        if code in _STANDALONE_MARKERS:
            continue
        if code in (0xD8, 0xD9, 0xDA):  # SOI again, EOI or SOS before any frame header
            raise PhotoRejected("corrupt")
        raw_length = fp.read(2)
        if len(raw_length) < 2:
            raise PhotoRejected("truncated")
        length = int.from_bytes(raw_length, "big")
        if length < 2:
            raise PhotoRejected("corrupt")
        if code in _SOF_MARKERS:
            frame = fp.read(5)
            if len(frame) < 5:
                raise PhotoRejected("truncated")
            height, width = struct.unpack(">HH", frame[1:5])
            if width == 0 or height == 0:
                raise PhotoRejected("corrupt")
            return JpegFrame(width, height, code in _PROGRESSIVE_SOF_MARKERS)
        here = fp.tell()
        fp.seek(0, os.SEEK_END)
        if here + length - 2 > fp.tell():
            raise PhotoRejected("truncated")
        fp.seek(here + length - 2)


def too_many_pixels(width: int, height: int, max_pixels: int) -> PhotoRejected:
    """Build the ``too_many_pixels`` rejection with the numbers in the message."""
    return PhotoRejected(
        "too_many_pixels",
        f"照片像素过多（{width}×{height}，约 {width * height / 1e6:.0f} 百万像素），"
        f"超过上限 {max_pixels / 1e6:.0f} 百万像素；可能是恶意构造的文件，请上传手机拍摄的原始照片。",
    )


def isobmff_truncated(fp: IO[bytes]) -> bool:
    """True when an ISO-BMFF (HEIF) file's top-level boxes run past its end."""
    fp.seek(0, os.SEEK_END)
    end = fp.tell()
    position = 0
    while position < end:
        fp.seek(position)
        header = fp.read(16)
        if len(header) < 8:
            return True
        size = int.from_bytes(header[0:4], "big")
        if size == 1:
            if len(header) < 16:
                return True
            size = int.from_bytes(header[8:16], "big")
        elif size == 0:  # the last box runs to the end of the file
            return False
        if size < 8:
            return False  # not a box stream: corrupt rather than truncated
        position += size
    return position > end


def failure_code(exc: BaseException) -> str:
    """``truncated`` when a decoder's error says the data ended early, ``corrupt`` otherwise."""
    text = str(exc).lower()
    if isinstance(exc, EOFError) or "truncat" in text or "end of file" in text:
        return "truncated"
    return "corrupt"


@contextmanager
def open_photo(
    path_or_file: str | os.PathLike[str] | IO[bytes], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[tuple[Image.Image, str]]:
    """Open a JPEG/HEIC lazily (header only) and yield ``(image, format)``; pixels are not decoded.

    The real format comes from the magic bytes; the pixel count is checked before Pillow is even
    asked for JPEG (from the SOF marker) and right after the header parse for HEIC.  File objects
    must be seekable and are read from the start.  Pixels may be decoded (``load()``) only inside
    the ``with`` block.
    """
    if isinstance(path_or_file, str | os.PathLike):
        fp: IO[bytes] = open(Path(path_or_file), "rb")  # noqa: SIM115 - closed in finally
        owned = True
    else:
        fp = path_or_file
        owned = False
    try:
        fp.seek(0)
        head = fp.read(_HEAD_BYTES)
        if not head:
            raise PhotoRejected("empty_file")
        fmt = detect_format(head)
        if fmt is None:
            if b"\xff\xd8\xff".startswith(head[:3]):  # one or two bytes of a JPEG signature
                raise PhotoRejected("truncated")
            raise _unsupported(head)
        if fmt == FORMAT_JPEG:
            jpeg_frame(fp).check(max_pixels)
        else:
            _register_heif_opener()
        fp.seek(0)
        try:
            image = Image.open(fp, formats=[_PILLOW_FORMAT[fmt]])
        except Image.DecompressionBombError as exc:
            raise PhotoRejected("too_many_pixels") from exc
        except (UnidentifiedImageError, SyntaxError, OSError, ValueError, EOFError, struct.error) as exc:
            code = failure_code(exc)
            if fmt == FORMAT_HEIC and isobmff_truncated(fp):
                code = "truncated"
            raise PhotoRejected(code) from exc
        try:
            width, height = image.size
            if width * height > max_pixels:
                raise too_many_pixels(width, height, max_pixels)
            yield image, fmt
        finally:
            image.close()
    finally:
        if owned:
            fp.close()


# --------------------------------------------------------------------------------------------------
# Values


def _add(issues: list[str], code: str) -> None:
    if code not in issues:
        issues.append(code)


def _rational(value: Any) -> tuple[float | None, bool]:
    """Return ``(number, zero_denominator)`` for an IFDRational, a (num, den) pair or a number.

    0/0 reads as 0; x/0 with x != 0, NaN, infinities and non-numbers read as None.
    """
    if isinstance(value, bool):
        return None, False
    if isinstance(value, IFDRational | Fraction):
        num, den = value.numerator, value.denominator
    elif (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        num, den = value
    elif isinstance(value, int | float):
        number = float(value)
        return (number if math.isfinite(number) else None), False
    else:
        return None, False
    if den == 0:
        return (0.0 if num == 0 else None), True
    try:
        number = float(num) / float(den)
    except (TypeError, ValueError, OverflowError):
        return None, False
    return (number if math.isfinite(number) else None), False


def _components(value: Any) -> list[Any] | None:
    """The components of a degrees value: a sequence of rationals, or one number on its own."""
    if isinstance(value, IFDRational | Fraction | int | float) and not isinstance(value, bool):
        return [value]
    if isinstance(value, tuple | list) and 1 <= len(value) <= 3:
        return list(value)
    return None


def _degrees(value: Any, issues: list[str]) -> float | None:
    """Degrees from (d, m, s), (d, m), (d,) or a bare number; None (with a code) when unusable."""
    components = _components(value)
    if components is None:
        _add(issues, "gps_malformed")
        return None
    numbers: list[float] = []
    for component in components:
        number, zero_den = _rational(component)
        if zero_den:
            _add(issues, "gps_zero_denominator")
        if number is None:
            _add(issues, "gps_malformed")
            return None
        numbers.append(number)
    if any(n < 0 for n in numbers) or any(n >= 60 for n in numbers[1:]):
        _add(issues, "gps_out_of_range")
        return None
    return sum(n / 60**i for i, n in enumerate(numbers))


def _text(value: Any) -> str | None:
    """A stripped ASCII tag value (bytes or str) or None when empty."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _small_int(value: Any) -> int | None:
    """A BYTE/SHORT tag that may arrive as int, bytes (b'\\x01') or a one-element tuple."""
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes):
        return value[0] if len(value) >= 1 else None
    if isinstance(value, str):
        value = value.strip("\x00 ")
        return int(value) if value.isdigit() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _gps_time(date_value: Any, time_value: Any, issues: list[str]) -> datetime | None:
    """UTC datetime from GPSDateStamp ("YYYY:MM:DD") and GPSTimeStamp (h, m, s rationals)."""
    if date_value is None and time_value is None:
        return None
    date_text = _text(date_value)
    components = _components(time_value) if time_value is not None else None
    if date_text is None or components is None or len(components) != 3:
        _add(issues, "gps_time_invalid")
        return None
    match = re.fullmatch(r"(\d{4})[:\-/](\d{1,2})[:\-/](\d{1,2})", date_text)
    numbers = [_rational(c)[0] for c in components]
    if match is None or any(n is None for n in numbers):
        _add(issues, "gps_time_invalid")
        return None
    hours, minutes, seconds = (float(n) for n in numbers if n is not None)
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 61):
        _add(issues, "gps_time_invalid")
        return None
    try:
        day = datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=UTC)
    except ValueError:
        _add(issues, "gps_time_invalid")
        return None
    return day + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def gps_from_ifd(gps: Mapping[int, Any]) -> GpsReading:
    """Read a GPS IFD (tag number -> value, Pillow or piexif style) into usable values and codes."""
    issues: list[str] = []
    tags = ExifTags.GPS
    lat_value, lon_value = gps.get(tags.GPSLatitude), gps.get(tags.GPSLongitude)
    lat = lon = None
    if lat_value is not None or lon_value is not None:
        if lat_value is None or lon_value is None:
            _add(issues, "gps_incomplete")
        else:
            lat = _degrees(lat_value, issues)
            lon = _degrees(lon_value, issues)
            lat_ref = _text(gps.get(tags.GPSLatitudeRef))
            lon_ref = _text(gps.get(tags.GPSLongitudeRef))
            if lat_ref is None or lon_ref is None:
                _add(issues, "gps_ref_missing")  # assume N / E: what nearly every such file means
            if (lat_ref and lat_ref.upper() not in ("N", "S")) or (
                lon_ref and lon_ref.upper() not in ("E", "W")
            ):
                _add(issues, "gps_ref_invalid")
            if lat is not None and lat_ref and lat_ref.upper() == "S":
                lat = -lat
            if lon is not None and lon_ref and lon_ref.upper() == "W":
                lon = -lon
            if lat is None or lon is None:
                lat = lon = None
            elif abs(lat) > 90 or abs(lon) > 180:
                _add(issues, "gps_out_of_range")
                lat = lon = None
            elif lat == 0 and lon == 0:
                _add(issues, "gps_null_island")
                lat = lon = None

    alt = None
    alt_value = gps.get(tags.GPSAltitude)
    if alt_value is not None:
        number, zero_den = _rational(alt_value)
        if zero_den:
            _add(issues, "gps_zero_denominator")
        if number is None:
            _add(issues, "altitude_invalid")
        elif zero_den:
            pass  # 0/0 means "no altitude" in practice, not sea level: report it as unknown
        elif number > MAX_ALTITUDE_M:
            _add(issues, "altitude_invalid")  # e.g. a negative value written unsigned: 4294967xxx
        else:
            alt = -number if _small_int(gps.get(tags.GPSAltitudeRef)) == 1 and number > 0 else number
            if alt < MIN_ALTITUDE_M:
                _add(issues, "altitude_invalid")
                alt = None

    direction = None
    direction_value = gps.get(tags.GPSImgDirection)
    if direction_value is not None:
        number, zero_den = _rational(direction_value)
        if number is None or zero_den or not 0 <= number <= 360:
            _add(issues, "image_direction_invalid")
        else:
            direction = number % 360

    gps_time = _gps_time(gps.get(tags.GPSDateStamp), gps.get(tags.GPSTimeStamp), issues)
    status = _text(gps.get(tags.GPSStatus))
    if status and status.upper() == "V":
        _add(issues, "gps_status_void")
    return GpsReading(lat=lat, lon=lon, alt=alt, gps_time=gps_time, image_direction=direction, issues=issues)


_OFFSET_RE = re.compile(r"([+-])(\d{2}):?(\d{2})?")


def parse_exif_datetime(
    value: Any, offset: Any = None, subsec: Any = None
) -> tuple[datetime | None, bool, list[str]]:
    """Parse an EXIF "YYYY:MM:DD HH:MM:SS" with optional OffsetTime and SubSecTime tags.

    Returns ``(datetime, has_offset, issues)``: aware when a valid offset is given, naive
    otherwise; ``taken_at_invalid`` / ``offset_invalid`` in ``issues`` for unreadable values.
    Blank placeholders ("    :  :     :  :  ") read as missing.
    """
    issues: list[str] = []
    text = _text(value)
    if text is None or not text.strip(" :"):
        return None, False, issues
    match = re.fullmatch(r"(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?", text)
    if match is None:
        return None, False, ["taken_at_invalid"]
    try:
        year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None, False, ["taken_at_invalid"]
    digits = match[7] or (_text(subsec) or "")
    if digits.isdigit():
        moment = moment.replace(microsecond=int(digits[:6].ljust(6, "0")))
    offset_text = _text(offset)
    if offset_text is None or not offset_text.strip(" :"):
        return moment, False, issues
    if offset_text.upper() == "Z":
        return moment.replace(tzinfo=UTC), True, issues
    offset_match = _OFFSET_RE.fullmatch(offset_text)
    if offset_match is None:
        return moment, False, ["offset_invalid"]
    hours, minutes = int(offset_match[2]), int(offset_match[3] or 0)
    if hours > 14 or minutes >= 60:
        return moment, False, ["offset_invalid"]
    delta = timedelta(hours=hours, minutes=minutes)
    tz = timezone(-delta if offset_match[1] == "-" else delta)
    return moment.replace(tzinfo=tz), True, issues


# --------------------------------------------------------------------------------------------------
# EXIF structure check (Pillow is lenient and silently drops what it cannot read)

_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 129: 1}
_SUB_IFD_TAGS = (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo, ExifTags.IFD.Interop)


def exif_structure_problem(raw: bytes) -> str | None:
    """Return ``"exif_corrupt"`` when a raw EXIF block's TIFF structure is broken, else None.

    Checks the byte-order header and that IFD0, the Exif, GPS and Interop IFDs and every entry's
    out-of-line data lie inside the block.  Maker notes are not descended into.
    """
    data = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return "exif_corrupt"
    endian = "<" if data[:2] == b"II" else ">"
    magic, first = struct.unpack(endian + "HI", data[2:8])
    if magic != 42:
        return "exif_corrupt"
    pending, seen = [first], set()
    while pending:
        offset = pending.pop()
        if offset in seen:
            continue
        seen.add(offset)
        if offset < 8 or offset + 2 > len(data):
            return "exif_corrupt"
        (count,) = struct.unpack(endian + "H", data[offset : offset + 2])
        if offset + 2 + 12 * count > len(data):
            return "exif_corrupt"
        for index in range(count):
            start = offset + 2 + 12 * index
            tag, kind, n = struct.unpack(endian + "HHI", data[start : start + 8])
            size = _TIFF_TYPE_SIZES.get(kind)
            if size is None:
                return "exif_corrupt"
            (pointer,) = struct.unpack(endian + "I", data[start + 8 : start + 12])
            if size * n > 4 and pointer + size * n > len(data):
                return "exif_corrupt"
            if tag in _SUB_IFD_TAGS and kind in (4, 13) and n == 1:
                pending.append(pointer)
    return None


# --------------------------------------------------------------------------------------------------
# The entry point


def read_photo_metadata(
    path_or_file: str | os.PathLike[str] | IO[bytes], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> PhotoMetadata:
    """Read format, size, GPS, times and camera from a JPEG/HEIC header without decoding pixels.

    Raises :class:`PhotoRejected` (``empty_file``, ``unsupported_format``, ``truncated``,
    ``corrupt``, ``too_many_pixels``) when the file is not a usable photo; corrupt EXIF is not an
    error: the metadata comes back with ``exif_error`` set and whatever could be read.
    """
    with open_photo(path_or_file, max_pixels=max_pixels) as (image, fmt):
        width, height = image.size
        raw = image.info.get("exif")
        exif_error = exif_structure_problem(raw) if isinstance(raw, bytes) and raw else None
        try:
            exif = image.getexif()
            gps_ifd = dict(exif.get_ifd(ExifTags.IFD.GPSInfo))
            exif_ifd = dict(exif.get_ifd(ExifTags.IFD.Exif))
            base = dict(exif)
        except Exception:  # noqa: BLE001 - any parse failure of untrusted EXIF is data, not a crash
            exif_error = "exif_unreadable"
            gps_ifd, exif_ifd, base = {}, {}, {}
        if fmt == FORMAT_HEIC:
            # pillow-heif resets the EXIF tag to 1 (libheif applies the rotation); keep the original.
            orientation = _small_int(image.info.get("original_orientation"))
        else:
            orientation = _small_int(base.get(ExifTags.Base.Orientation))
        if orientation is not None and not 1 <= orientation <= 8:
            orientation = None
        if fmt == FORMAT_JPEG and orientation in (5, 6, 7, 8):
            width, height = height, width

    gps = gps_from_ifd(gps_ifd)
    tags = ExifTags.Base
    taken_at, has_offset, time_issues = parse_exif_datetime(
        exif_ifd.get(tags.DateTimeOriginal),
        exif_ifd.get(tags.OffsetTimeOriginal),
        exif_ifd.get(tags.SubsecTimeOriginal),
    )
    if taken_at is None and exif_ifd.get(tags.DateTimeOriginal) is None:
        # DateTimeDigitized is the next best; IFD0 DateTime is the last *edit* time, never used.
        taken_at, has_offset, time_issues = parse_exif_datetime(
            exif_ifd.get(tags.DateTimeDigitized),
            exif_ifd.get(tags.OffsetTimeDigitized),
            exif_ifd.get(tags.SubsecTimeDigitized),
        )
    return PhotoMetadata(
        format=fmt,
        width=width,
        height=height,
        lat=gps.lat,
        lon=gps.lon,
        alt=gps.alt,
        gps_time=gps.gps_time,
        taken_at=taken_at,
        taken_at_has_offset=has_offset,
        make=_text(base.get(tags.Make)),
        model=_text(base.get(tags.Model)),
        orientation=orientation,
        image_direction=gps.image_direction,
        gps_issues=gps.issues,
        time_issues=time_issues,
        exif_error=exif_error,
    )
