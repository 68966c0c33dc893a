"""Tests of the ``photo inspect`` command on synthetic files."""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from server.photo_evidence.cli import photo_app
from server.photo_evidence.imaging import sha256_file
from tests.photo_evidence.photos import BASE, GPS, dms, jpeg_bytes, rat, write

runner = CliRunner()

GPS_TAGS = {
    GPS.GPSLatitudeRef: "N",
    GPS.GPSLatitude: dms(34, 45, 0),
    GPS.GPSLongitudeRef: "E",
    GPS.GPSLongitude: dms(106, 8, 24),
    GPS.GPSAltitude: rat(1450),
    GPS.GPSImgDirection: rat(90),
}
REQUIRED = {
    "file",
    "sha256",
    "format",
    "width",
    "height",
    "lat",
    "lon",
    "alt",
    "taken_at",
    "make",
    "model",
    "orientation",
    "image_direction",
    "gps_issues",
    "error",
}


def good_photo(tmp_path: Path) -> Path:
    return write(
        tmp_path / "good.jpg",
        jpeg_bytes(
            gps=GPS_TAGS,
            base={BASE.Make: "vivo", BASE.Model: "X100", BASE.Orientation: 1},
            exif_ifd={BASE.DateTimeOriginal: "2024:05:06 09:02:03", BASE.OffsetTimeOriginal: "+08:00"},
        ),
    )


def test_inspect_json_lines_keep_going_after_errors(tmp_path: Path) -> None:
    good = good_photo(tmp_path)
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    renamed = write(tmp_path / "renamed.jpg", png.getvalue())
    empty = write(tmp_path / "empty.jpg", b"")
    missing = tmp_path / "missing.jpg"
    result = runner.invoke(
        photo_app, ["inspect", str(good), str(renamed), str(empty), str(missing), "--json"]
    )
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == [str(good), str(renamed), str(empty), str(missing)]
    first = records[0]
    assert set(first) >= REQUIRED
    assert first["error"] is None and first["format"] == "jpeg"
    assert first["sha256"] == sha256_file(good)
    assert (first["width"], first["height"]) == (64, 48)
    assert abs(first["lat"] - 34.75) < 1e-9 and abs(first["lon"] - 106.14) < 1e-9
    assert first["alt"] == 1450 and first["image_direction"] == 90
    assert first["taken_at"] == "2024-05-06T09:02:03+08:00"
    assert (first["make"], first["model"], first["orientation"]) == ("vivo", "X100", 1)
    assert first["gps_issues"] == []
    assert [r["error"] for r in records[1:]] == ["unsupported_format", "empty_file", "unreadable"]
    assert records[1]["sha256"] is not None and records[3]["sha256"] is None


def test_inspect_all_readable_exits_zero(tmp_path: Path) -> None:
    good = good_photo(tmp_path)
    plain = write(tmp_path / "plain.jpg", jpeg_bytes((32, 32)))
    result = runner.invoke(photo_app, ["inspect", str(good), str(plain), "--json"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2


def test_inspect_table(tmp_path: Path) -> None:
    result = runner.invoke(photo_app, ["inspect", str(good_photo(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "34.750000" in result.stdout and "vivo X100" in result.stdout
