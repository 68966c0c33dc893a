"""``photo`` commands (a typer sub-app): inspect evidence photos' EXIF and GPS without decoding pixels."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from server.photo_evidence.exif import PhotoRejected, read_photo_metadata
from server.photo_evidence.imaging import sha256_file

photo_app = typer.Typer(
    help="Evidence photos (照片证据): read EXIF and GPS without decoding pixels.",
    no_args_is_help=True,
    add_completion=False,
)

_FIELDS = (
    "format",
    "width",
    "height",
    "lat",
    "lon",
    "alt",
    "gps_time",
    "taken_at",
    "taken_at_has_offset",
    "make",
    "model",
    "orientation",
    "image_direction",
    "gps_issues",
    "time_issues",
    "exif_error",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def inspect_record(path: Path) -> dict[str, Any]:
    """One photo's metadata as a JSON-ready dict; ``error`` is None or a stable code, never raised."""
    record: dict[str, Any] = {"file": str(path), "sha256": None}
    record.update(dict.fromkeys(_FIELDS))
    record.update({"gps_issues": [], "time_issues": [], "error": None, "message": None})
    try:
        record["sha256"] = sha256_file(path)
        meta = read_photo_metadata(path)
    except PhotoRejected as exc:
        record.update(error=exc.code, message=exc.message)
        return record
    except OSError as exc:
        record.update(error="unreadable", message=f"无法读取文件：{exc.strerror or exc}")
        return record
    for name in _FIELDS:
        value = getattr(meta, name)
        record[name] = _iso(value) if isinstance(value, datetime) else value
    return record


def _describe(record: dict[str, Any]) -> str:
    """A few human-readable lines about one record."""
    if record["error"]:
        return f"{record['file']}: error {record['error']}: {record['message']}"
    lines = [f"{record['file']}: {record['format']} {record['width']}x{record['height']}"]
    if record["lat"] is not None:
        place = f"  location: {record['lat']:.6f}, {record['lon']:.6f} (WGS84)"
        if record["alt"] is not None:
            place += f", altitude {record['alt']:.1f} m"
        if record["image_direction"] is not None:
            place += f", facing {record['image_direction']:.0f} deg"
        lines.append(place)
    else:
        lines.append("  location: none")
    camera = " ".join(part for part in (record["make"], record["model"]) if part) or "-"
    lines.append(
        f"  taken: {record['taken_at'] or '-'}  gps time: {record['gps_time'] or '-'}  camera: {camera}"
    )
    issues = (
        record["gps_issues"]
        + record["time_issues"]
        + ([record["exif_error"]] if record["exif_error"] else [])
    )
    if issues:
        lines.append(f"  issues: {', '.join(issues)}")
    lines.append(f"  sha256: {record['sha256']}")
    return "\n".join(lines)


@photo_app.callback()
def photo() -> None:
    """Evidence photos: read EXIF and GPS."""


@photo_app.command("inspect")
def inspect_command(
    files: Annotated[list[Path], typer.Argument(help="Photo files (JPEG / HEIC).")],
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print each photo's format, size, GPS, times and camera; exit 1 if any file could not be read."""
    records = [inspect_record(path) for path in files]
    if json_lines:
        for record in records:
            typer.echo(json.dumps(record, ensure_ascii=False))
    else:
        for record in records:
            typer.echo(_describe(record))
    if any(record["error"] for record in records):
        raise typer.Exit(1)
