"""Tests of EXIF/GPS reading from synthetic JPEG and HEIC files; no pixel is decoded."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile
from pillow_heif.as_plugin import HeifImageFile

from server.photo_evidence.exif import (
    PhotoMetadata,
    PhotoRejected,
    detect_format,
    gps_from_ifd,
    parse_exif_datetime,
    read_photo_metadata,
)
from tests.photo_evidence.photos import BASE, GPS, dms, exif_block, heic_bytes, jpeg_bytes, rat, write

NORMAL_GPS = {
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: dms(34, 45, 0),
    GPS.GPSLongitudeRef: "E",
    GPS.GPSLongitude: dms(106, 8, 24),
    GPS.GPSAltitudeRef: 0,
    GPS.GPSAltitude: rat(14505, 10),
    GPS.GPSDateStamp: "2024:05:06",
    GPS.GPSTimeStamp: (rat(1), rat(2), rat(35, 10)),
    GPS.GPSImgDirection: rat(1234, 10),
}


@pytest.fixture(autouse=True)
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading metadata must never decode pixels: any load() inside read_photo_metadata fails the test."""
    import server.photo_evidence.exif as exif_module

    real = exif_module.read_photo_metadata

    def refuse(self: Image.Image) -> None:
        raise AssertionError("pixels were decoded")

    def guarded(*args: Any, **kwargs: Any) -> PhotoMetadata:
        with monkeypatch.context() as patch:
            patch.setattr(ImageFile.ImageFile, "load", refuse)
            patch.setattr(Image.Image, "load", refuse)
            patch.setattr(HeifImageFile, "load", refuse)
            return real(*args, **kwargs)

    monkeypatch.setitem(globals(), "read_photo_metadata", guarded)


def read_jpeg(tmp_path: Path, name: str = "photo.jpg", **kwargs: Any) -> PhotoMetadata:
    return read_photo_metadata(write(tmp_path / name, jpeg_bytes(**kwargs)))


def test_normal_gps_with_altitude_time_direction_and_camera(tmp_path: Path) -> None:
    meta = read_jpeg(
        tmp_path,
        gps=NORMAL_GPS,
        base={BASE.Make: "HUAWEI", BASE.Model: "Mate 60\x00", BASE.Orientation: 1},
    )
    assert meta.format == "jpeg"
    assert (meta.width, meta.height) == (64, 48)
    assert meta.lat == pytest.approx(34.75)
    assert meta.lon == pytest.approx(106.14)
    assert meta.alt == pytest.approx(1450.5)
    assert meta.gps_time == datetime(2024, 5, 6, 1, 2, 3, 500000, tzinfo=UTC)
    assert meta.image_direction == pytest.approx(123.4)
    assert (meta.make, meta.model, meta.orientation) == ("HUAWEI", "Mate 60", 1)
    assert meta.gps_issues == []
    assert meta.exif_error is None
    assert meta.has_location


def test_south_and_west_are_negative(tmp_path: Path) -> None:
    gps = {**NORMAL_GPS, GPS.GPSLatitudeRef: "S", GPS.GPSLongitudeRef: "W"}
    meta = read_jpeg(tmp_path, gps=gps)
    assert meta.lat == pytest.approx(-34.75)
    assert meta.lon == pytest.approx(-106.14)
    assert meta.gps_issues == []


def test_zero_over_zero_component_reads_as_zero_and_is_recorded(tmp_path: Path) -> None:
    gps = {
        **NORMAL_GPS,
        GPS.GPSLatitude: (rat(34), rat(45), rat(0, 0)),
        GPS.GPSAltitude: rat(0, 0),
    }
    meta = read_jpeg(tmp_path, gps=gps)
    assert meta.lat == pytest.approx(34.75)
    assert meta.alt is None  # 0/0 altitude is "unknown", not sea level
    assert "gps_zero_denominator" in meta.gps_issues


def test_all_zero_rationals_are_null_island(tmp_path: Path) -> None:
    zero = (rat(0, 0), rat(0, 0), rat(0, 0))
    meta = read_jpeg(tmp_path, gps={**NORMAL_GPS, GPS.GPSLatitude: zero, GPS.GPSLongitude: zero})
    assert meta.lat is None and meta.lon is None
    assert set(meta.gps_issues) >= {"gps_zero_denominator", "gps_null_island"}


def test_missing_refs_assume_north_east(tmp_path: Path) -> None:
    gps = {k: v for k, v in NORMAL_GPS.items() if k not in (GPS.GPSLatitudeRef, GPS.GPSLongitudeRef)}
    meta = read_jpeg(tmp_path, gps=gps)
    assert meta.lat == pytest.approx(34.75)
    assert meta.lon == pytest.approx(106.14)
    assert meta.gps_issues == ["gps_ref_missing"]


def test_latitude_91_from_buggy_firmware_is_dropped(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, gps={**NORMAL_GPS, GPS.GPSLatitude: dms(91, 0, 0)})
    assert meta.lat is None and meta.lon is None
    assert meta.gps_issues == ["gps_out_of_range"]
    assert meta.alt == pytest.approx(1450.5)  # the rest is still read


def test_minutes_of_60_are_out_of_range(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, gps={**NORMAL_GPS, GPS.GPSLongitude: (rat(106), rat(60), rat(0))})
    assert meta.lat is None and meta.lon is None
    assert "gps_out_of_range" in meta.gps_issues


def test_decimal_degrees_in_first_component(tmp_path: Path) -> None:
    gps = {
        **NORMAL_GPS,
        GPS.GPSLatitude: (rat(347512345, 10000000), rat(0), rat(0)),
        GPS.GPSLongitude: (rat(1061401, 10000),),
    }
    meta = read_jpeg(tmp_path, gps=gps)
    assert meta.lat == pytest.approx(34.7512345)
    assert meta.lon == pytest.approx(106.1401)
    assert meta.gps_issues == []


def test_altitude_below_sea_level_with_ref_1(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, gps={**NORMAL_GPS, GPS.GPSAltitudeRef: 1, GPS.GPSAltitude: rat(125, 10)})
    assert meta.alt == pytest.approx(-12.5)
    assert meta.gps_issues == []


def test_unsigned_wrapped_altitude_is_invalid(tmp_path: Path) -> None:
    # -100 m written as an unsigned 32-bit numerator.
    meta = read_jpeg(tmp_path, gps={**NORMAL_GPS, GPS.GPSAltitude: rat(2**32 - 100, 1)})
    assert meta.alt is None
    assert meta.gps_issues == ["altitude_invalid"]
    assert meta.lat == pytest.approx(34.75)


def test_date_time_original_with_offset_is_aware(tmp_path: Path) -> None:
    exif_ifd = {
        BASE.DateTimeOriginal: "2024:05:06 09:02:03",
        BASE.OffsetTimeOriginal: "+08:00",
        BASE.SubsecTimeOriginal: "25",
    }
    meta = read_jpeg(tmp_path, exif_ifd=exif_ifd)
    assert meta.taken_at_has_offset
    assert meta.taken_at == datetime(2024, 5, 6, 9, 2, 3, 250000, tzinfo=timezone(timedelta(hours=8)))
    assert meta.taken_at.astimezone(UTC) == datetime(2024, 5, 6, 1, 2, 3, 250000, tzinfo=UTC)
    assert meta.lat is None and meta.gps_issues == []


def test_date_time_original_without_offset_is_naive(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, exif_ifd={BASE.DateTimeOriginal: "2024:05:06 09:02:03"})
    assert meta.taken_at == datetime(2024, 5, 6, 9, 2, 3)
    assert meta.taken_at.tzinfo is None
    assert not meta.taken_at_has_offset


def test_datetime_parsing_edge_cases() -> None:
    assert parse_exif_datetime("    :  :     :  :  ") == (None, False, [])
    assert parse_exif_datetime("0000:00:00 00:00:00") == (None, False, ["taken_at_invalid"])
    moment, has_offset, issues = parse_exif_datetime("2024:05:06 09:02:03", "+8h")
    assert moment == datetime(2024, 5, 6, 9, 2, 3) and not has_offset and issues == ["offset_invalid"]
    moment, has_offset, _ = parse_exif_datetime(b"2024-05-06 09:02:03\x00", b"-0530")
    assert has_offset and moment.utcoffset() == -timedelta(hours=5, minutes=30)


def test_no_exif_at_all(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path)
    assert (meta.format, meta.width, meta.height) == ("jpeg", 64, 48)
    assert meta.lat is meta.lon is meta.alt is meta.taken_at is meta.make is meta.orientation is None
    assert meta.gps_issues == [] and meta.time_issues == []
    assert meta.exif_error is None


def test_corrupt_exif_bytes_are_reported_not_raised(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, exif=b"Exif\x00\x00" + bytes(range(256)) * 4)
    assert meta.exif_error == "exif_corrupt"
    assert meta.lat is None
    assert (meta.width, meta.height) == (64, 48)


@pytest.mark.filterwarnings(
    "ignore:Corrupt EXIF data", "ignore:Tag data larger than file", "ignore:Truncated File Read"
)
@pytest.mark.parametrize("damage", ["entry_count", "cut_short"])
def test_damaged_exif_keeps_what_can_be_read(tmp_path: Path, damage: str) -> None:
    raw = exif_block(base={BASE.Make: "Xiaomi"}, gps=NORMAL_GPS).tobytes()
    assert raw[6:8] == b"MM"  # Pillow writes big-endian; IFD0 starts at byte 8 of the TIFF block
    # 64 entries make IFD0 run past the block; cutting 20 bytes loses the last tag data (GPS date).
    broken = raw[:14] + b"\x00\x40" + raw[16:] if damage == "entry_count" else raw[:-20]
    meta = read_jpeg(tmp_path, exif=broken)
    assert meta.exif_error == "exif_corrupt"
    assert meta.make == "Xiaomi"
    assert meta.lat == pytest.approx(34.75)


def test_format_comes_from_magic_bytes_not_name(tmp_path: Path) -> None:
    meta = read_photo_metadata(write(tmp_path / "photo.png", jpeg_bytes(gps=NORMAL_GPS)))
    assert meta.format == "jpeg" and meta.lat == pytest.approx(34.75)


@pytest.mark.parametrize("kind", ["png", "gif", "random"])
def test_other_formats_are_unsupported(tmp_path: Path, kind: str) -> None:
    if kind == "random":
        data = bytes(range(7, 250)) * 10
    else:
        out = io.BytesIO()
        Image.new("RGB", (8, 8)).save(out, kind.upper())
        data = out.getvalue()
    with pytest.raises(PhotoRejected) as info:
        read_photo_metadata(write(tmp_path / "fake.jpg", data))
    assert info.value.code == "unsupported_format"
    assert "JPEG" in info.value.message
    if kind != "random":
        assert kind.upper() in info.value.message  # names what the file really is


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(PhotoRejected) as info:
        read_photo_metadata(write(tmp_path / "empty.jpg", b""))
    assert info.value.code == "empty_file"


@pytest.mark.parametrize("keep", [2, 3, 20, 100, 400])
def test_truncated_jpeg_header(tmp_path: Path, keep: int) -> None:
    data = jpeg_bytes(gps=NORMAL_GPS, base={BASE.Make: "OPPO"})
    with pytest.raises(PhotoRejected) as info:
        read_photo_metadata(write(tmp_path / "cut.jpg", data[:keep]))
    assert info.value.code == "truncated"


def test_jpeg_magic_followed_by_garbage_is_corrupt(tmp_path: Path) -> None:
    with pytest.raises(PhotoRejected) as info:
        read_photo_metadata(write(tmp_path / "bad.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200))
    assert info.value.code == "corrupt"


def test_reads_from_a_file_object() -> None:
    meta = read_photo_metadata(io.BytesIO(jpeg_bytes(gps=NORMAL_GPS)))
    assert meta.lat == pytest.approx(34.75)


def test_orientation_6_reports_upright_size(tmp_path: Path) -> None:
    meta = read_jpeg(tmp_path, base={BASE.Orientation: 6})
    assert meta.orientation == 6
    assert (meta.width, meta.height) == (48, 64)


def test_heic_written_by_pillow_heif(tmp_path: Path) -> None:
    exif = exif_block(gps=NORMAL_GPS, base={BASE.Make: "Apple", BASE.Orientation: 6})
    exif.get_ifd(0x8769).update(
        {BASE.DateTimeOriginal: "2024:05:06 09:02:03", BASE.OffsetTimeOriginal: "+08:00"}
    )
    path = write(tmp_path / "IMG_0001.JPG", heic_bytes((64, 48), exif=exif))  # misleading name on purpose
    meta = read_photo_metadata(path)
    assert meta.format == "heic"
    assert meta.lat == pytest.approx(34.75) and meta.lon == pytest.approx(106.14)
    assert meta.alt == pytest.approx(1450.5)
    assert meta.make == "Apple"
    assert meta.orientation == 6  # as written; libheif has already rotated the pixels
    assert (meta.width, meta.height) == (48, 64)
    assert meta.taken_at == datetime(2024, 5, 6, 1, 2, 3, tzinfo=UTC)


def test_detect_format_brands() -> None:
    def ftyp(major: bytes, *compatible: bytes) -> bytes:
        body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
        return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\x00" * 16

    assert detect_format(b"\xff\xd8\xff\xe1") == "jpeg"
    assert detect_format(ftyp(b"heic", b"mif1", b"heic")) == "heic"
    assert detect_format(ftyp(b"heix", b"mif1")) == "heic"
    assert detect_format(ftyp(b"mif1", b"mif1", b"miaf")) == "heic"
    assert detect_format(ftyp(b"msf1", b"hevc")) == "heic"
    assert detect_format(ftyp(b"mif1", b"avif", b"miaf")) is None  # AVIF is not accepted
    assert detect_format(ftyp(b"avif", b"mif1")) is None
    assert detect_format(ftyp(b"isom", b"mp41")) is None  # an MP4 video
    assert detect_format(b"\x89PNG\r\n\x1a\n") is None
    assert detect_format(b"GIF89a") is None
    assert detect_format(b"") is None


def test_gps_from_piexif_style_tuples() -> None:
    reading = gps_from_ifd(
        {
            GPS.GPSLatitudeRef: b"N\x00",
            GPS.GPSLatitude: ((34, 1), (45, 1), (0, 0)),
            GPS.GPSLongitudeRef: b"E",
            GPS.GPSLongitude: ((106, 1), (8, 1), (2400, 100)),
            GPS.GPSAltitudeRef: b"\x01",
            GPS.GPSAltitude: (50, 1),
            GPS.GPSDateStamp: "2024:05:06",
            GPS.GPSTimeStamp: ((1, 1), (2, 1), (3, 1)),
        }
    )
    assert reading.lat == pytest.approx(34.75) and reading.lon == pytest.approx(106.14)
    assert reading.alt == pytest.approx(-50)
    assert reading.gps_time == datetime(2024, 5, 6, 1, 2, 3, tzinfo=UTC)
    assert reading.issues == ["gps_zero_denominator"]


def test_gps_nonzero_over_zero_is_malformed() -> None:
    reading = gps_from_ifd({GPS.GPSLatitude: ((34, 0), (0, 1), (0, 1)), GPS.GPSLongitude: (106.14,)})
    assert reading.lat is None and reading.lon is None
    assert set(reading.issues) >= {"gps_zero_denominator", "gps_malformed", "gps_ref_missing"}


def test_gps_latitude_without_longitude_is_incomplete() -> None:
    reading = gps_from_ifd({GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (34.75,)})
    assert reading.lat is None and reading.issues == ["gps_incomplete"]
