"""The verdict on one evidence photo: where and when it was taken compared with the site and the check.

Pure logic: the caller measures the photo's distance to the site geometry (in PostGIS) and looks up
duplicates; this module only weighs the facts.  Each reason has a stable code, a Chinese message and a
severity; nothing is "corrected" (a GCJ-02-shifted photo is flagged, never moved).

Status: ``suspicious`` when any reason is suspicious, else ``unverifiable`` when something needed for
the check is missing, else ``accepted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any

import prcoords

from gis_data.crs import CGCS2000_GEOD
from server.photo_evidence.exif import PhotoMetadata

#: China Standard Time, assumed for camera clocks that wrote no OffsetTimeOriginal.
CHINA_TZ = timezone(timedelta(hours=8), "CST")
#: Clock drift between camera and server tolerated before a photo counts as taken in the future.
CLOCK_TOLERANCE = timedelta(minutes=10)


class VerdictStatus(StrEnum):
    """Overall verdict on a photo."""

    ACCEPTED = "accepted"  # 可采信
    SUSPICIOUS = "suspicious"  # 存疑
    UNVERIFIABLE = "unverifiable"  # 无法核验


class Severity(StrEnum):
    """Weight of one reason."""

    INFO = "info"  # supports the photo or is merely noted
    SUSPICIOUS = "suspicious"  # a red flag for the reviewer
    UNVERIFIABLE = "unverifiable"  # something needed for the check is missing


@dataclass(frozen=True)
class Reason:
    """One finding about a photo: stable code, Chinese message, severity and the numbers behind it."""

    code: str
    message: str
    severity: Severity
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The status of a photo and every reason that led to it."""

    status: VerdictStatus
    reasons: list[Reason]

    @property
    def codes(self) -> list[str]:
        """The reason codes, in order."""
        return [reason.code for reason in self.reasons]


@dataclass(frozen=True)
class DeviceFix:
    """The phone's own location fix at upload time (WGS84), with its reported accuracy."""

    lat: float
    lon: float
    accuracy_m: float | None
    fixed_at: datetime | None


@dataclass(frozen=True)
class DuplicateRef:
    """An earlier photo found to be the same file (SHA-256) or nearly the same image (phash)."""

    photo_id: int | str
    project_id: int | str | None = None
    project_name: str | None = None
    uploaded_at: datetime | None = None
    hash_distance: int | None = None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres on the CGCS2000 ellipsoid (WGS84 input is fine at this accuracy)."""
    _fwd, _back, dist = CGCS2000_GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist)


def looks_gcj02_shifted(
    lat: float, lon: float, site_point_lat: float, site_point_lon: float, tolerance_m: float = 120
) -> bool:
    """True when reading the photo's coordinates as GCJ-02 puts them at the site and WGS84 does not.

    The photo is converted GCJ-02 -> WGS84 (prcoords.gcj_wgs_bored; about 405 m here).  It is a
    suspect when the converted point lies within ``tolerance_m`` of the site point and the
    conversion brought it closer by at least half the shift.
    """
    converted = prcoords.gcj_wgs_bored((lat, lon))
    shift = distance_m(lat, lon, converted.lat, converted.lon)
    before = distance_m(lat, lon, site_point_lat, site_point_lon)
    after = distance_m(converted.lat, converted.lon, site_point_lat, site_point_lon)
    return after <= tolerance_m < before and before - after >= shift / 2


def _metres(value: float) -> str:
    """Metres for a message: whole metres, one decimal when that matters (200.5 vs a 200 m limit)."""
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def _effective_time(meta: PhotoMetadata, reasons: list[Reason]) -> datetime | None:
    """The photo's capture time as an aware datetime, noting how it was obtained."""
    if meta.taken_at is not None:
        if meta.taken_at.tzinfo is not None:
            return meta.taken_at
        reasons.append(
            Reason(
                "taken_at_no_offset",
                "照片拍摄时间未记录时区，按北京时间（UTC+8）理解。",
                Severity.INFO,
            )
        )
        return meta.taken_at.replace(tzinfo=CHINA_TZ)
    if meta.gps_time is not None:
        reasons.append(
            Reason(
                "taken_at_from_gps",
                "照片未记录拍摄时间，以 GPS 定位时间代替。",
                Severity.INFO,
            )
        )
        return meta.gps_time
    return None


def _location_reasons(
    meta: PhotoMetadata, site_distance_m: float | None, site_buffer_m: float, gcj_suspect: bool
) -> list[Reason]:
    if not meta.has_location:
        detail = "、".join(meta.gps_issues)
        return [
            Reason(
                "no_location",
                "照片没有可用的 GPS 位置，无法核验拍摄地点"
                + (f"（定位信息异常：{detail}）" if detail else "（可能拍摄时未开启定位或照片经过处理）")
                + "。",
                Severity.UNVERIFIABLE,
                {"gps_issues": list(meta.gps_issues)},
            )
        ]
    if site_distance_m is None:
        return [
            Reason(
                "site_geometry_missing",
                "项目尚未标注位置范围，无法核验照片拍摄地点。",
                Severity.UNVERIFIABLE,
            )
        ]
    details = {"distance_m": round(site_distance_m, 1), "buffer_m": site_buffer_m}
    reasons: list[Reason] = []
    if site_distance_m <= 0:
        reasons.append(Reason("inside_site", "照片拍摄位置在项目范围内。", Severity.INFO, details))
    elif site_distance_m <= site_buffer_m:
        reasons.append(
            Reason(
                "within_buffer",
                f"照片拍摄位置在项目范围外约 {_metres(site_distance_m)} 米，"
                f"在允许的 {_metres(site_buffer_m)} 米缓冲范围内。",
                Severity.INFO,
                details,
            )
        )
    else:
        reasons.append(
            Reason(
                "outside_site",
                f"照片拍摄位置距项目范围约 {_metres(site_distance_m)} 米，"
                f"超出允许的 {_metres(site_buffer_m)} 米。",
                Severity.SUSPICIOUS,
                details,
            )
        )
    if gcj_suspect:
        reasons.append(
            Reason(
                "gcj02_shift_suspected",
                "照片坐标疑似为 GCJ-02（国测局加密坐标，本地偏移约 400 米）而非手机 GPS 原始的 WGS84："
                "换算后恰好落在项目附近。照片可能经过地图或水印类应用处理，请核实原始照片；系统未做任何坐标修正。",
                Severity.SUSPICIOUS,
            )
        )
    return reasons


def _time_reasons(
    taken: datetime,
    *,
    uploaded_at: datetime,
    check_date: date | None,
    max_age_days: int,
) -> list[Reason]:
    reasons: list[Reason] = []
    taken_iso = taken.isoformat()
    if taken > uploaded_at + CLOCK_TOLERANCE:
        reasons.append(
            Reason(
                "taken_in_future",
                f"照片拍摄时间（{taken_iso}）晚于上传时间（{uploaded_at.isoformat()}），相机时钟有误或时间被改动。",
                Severity.SUSPICIOUS,
                {"taken_at": taken_iso, "uploaded_at": uploaded_at.isoformat()},
            )
        )
    if check_date is not None:
        taken_day = taken.astimezone(CHINA_TZ).date()
        age_days = (check_date - taken_day).days
        if age_days > max_age_days:
            reasons.append(
                Reason(
                    "taken_long_before",
                    f"照片拍摄于 {taken_day.isoformat()}，早于督查日期 {check_date.isoformat()} "
                    f"{age_days} 天，超过允许的 {max_age_days} 天，可能不是本次督查现场拍摄。",
                    Severity.SUSPICIOUS,
                    {"age_days": age_days, "max_age_days": max_age_days, "reference": "check_date"},
                )
            )
        elif age_days < 0:
            reasons.append(
                Reason(
                    "taken_after_check",
                    f"照片拍摄于 {taken_day.isoformat()}，晚于督查日期 {check_date.isoformat()}，"
                    "不是本次督查时拍摄。",
                    Severity.SUSPICIOUS,
                    {"age_days": age_days},
                )
            )
    else:
        age = uploaded_at - taken
        if age > timedelta(days=max_age_days):
            age_days_float = age.total_seconds() / 86400
            reasons.append(
                Reason(
                    "taken_long_before",
                    f"照片拍摄于上传前约 {age_days_float:.1f} 天，超过允许的 {max_age_days} 天，"
                    "可能是旧照片。",
                    Severity.SUSPICIOUS,
                    {
                        "age_days": round(age_days_float, 2),
                        "max_age_days": max_age_days,
                        "reference": "uploaded_at",
                    },
                )
            )
    return reasons


def _duplicate_label(ref: DuplicateRef) -> str:
    label = f"#{ref.photo_id}"
    if ref.project_name:
        label += f"（项目“{ref.project_name}”）"
    if ref.uploaded_at is not None:
        label += f"，上传于 {ref.uploaded_at.astimezone(CHINA_TZ).strftime('%Y-%m-%d %H:%M')}"
    return label


def assess_photo(
    meta: PhotoMetadata,
    *,
    device_fix: DeviceFix | None,
    site_distance_m: float | None,
    site_buffer_m: float,
    uploaded_at: datetime,
    check_date: date | None,
    max_age_days: int = 3,
    max_fix_disagreement_m: float = 200,
    gcj_suspect: bool,
    duplicate_of: DuplicateRef | None,
    near_duplicate_of: DuplicateRef | None,
) -> Verdict:
    """Weigh a photo's metadata against the site, the check date, the device fix and earlier photos.

    ``site_distance_m`` is the distance from the photo's EXIF point to the site geometry (0 inside,
    None when the site has no geometry); ``uploaded_at`` must be timezone-aware.  Age is measured
    against ``check_date`` (calendar days, Beijing time) when given, else against ``uploaded_at``;
    exactly ``max_age_days`` is still fine.  The fix disagreement threshold widens to the fix's
    own accuracy when that is worse.
    """
    if uploaded_at.tzinfo is None:
        raise ValueError("uploaded_at must be timezone-aware")
    reasons: list[Reason] = []
    reasons.extend(_location_reasons(meta, site_distance_m, site_buffer_m, gcj_suspect))

    taken = _effective_time(meta, reasons)
    if taken is None:
        reasons.append(
            Reason(
                "no_taken_time",
                "照片没有记录拍摄时间，无法核验是否为近期拍摄。",
                Severity.UNVERIFIABLE,
            )
        )
    else:
        reasons.extend(
            _time_reasons(taken, uploaded_at=uploaded_at, check_date=check_date, max_age_days=max_age_days)
        )

    if device_fix is not None and meta.lat is not None and meta.lon is not None:
        gap = distance_m(meta.lat, meta.lon, device_fix.lat, device_fix.lon)
        threshold = max(max_fix_disagreement_m, device_fix.accuracy_m or 0.0)
        details = {"distance_m": round(gap, 1), "threshold_m": threshold}
        if gap > threshold:
            reasons.append(
                Reason(
                    "exif_device_disagree",
                    f"照片 EXIF 位置与上传时手机定位相距约 {_metres(gap)} 米，超过 {_metres(threshold)} 米，"
                    "照片可能不是在当前位置拍摄的。",
                    Severity.SUSPICIOUS,
                    details,
                )
            )
        else:
            reasons.append(
                Reason(
                    "exif_device_agree",
                    f"照片 EXIF 位置与上传时手机定位相距约 {_metres(gap)} 米，一致。",
                    Severity.INFO,
                    details,
                )
            )

    if duplicate_of is not None:
        reasons.append(
            Reason(
                "reused_photo",
                f"该照片与已上传的照片 {_duplicate_label(duplicate_of)} 是同一文件（SHA-256 相同），"
                "属重复使用。",
                Severity.SUSPICIOUS,
                {"photo_id": duplicate_of.photo_id, "project_id": duplicate_of.project_id},
            )
        )
    if near_duplicate_of is not None:
        distance = near_duplicate_of.hash_distance
        reasons.append(
            Reason(
                "near_duplicate",
                f"该照片与已上传的照片 {_duplicate_label(near_duplicate_of)} 几乎相同"
                + (f"（感知哈希差异 {distance}/64）" if distance is not None else "")
                + "，可能是旧照片的缩放或转存。",
                Severity.SUSPICIOUS,
                {
                    "photo_id": near_duplicate_of.photo_id,
                    "project_id": near_duplicate_of.project_id,
                    "hash_distance": distance,
                },
            )
        )
    if meta.exif_error is not None:
        reasons.append(
            Reason(
                "exif_corrupt",
                "照片的 EXIF 元数据部分损坏，已尽量读取。",
                Severity.INFO,
                {"exif_error": meta.exif_error},
            )
        )

    severities = {reason.severity for reason in reasons}
    if Severity.SUSPICIOUS in severities:
        status = VerdictStatus.SUSPICIOUS
    elif Severity.UNVERIFIABLE in severities:
        status = VerdictStatus.UNVERIFIABLE
    else:
        status = VerdictStatus.ACCEPTED
    return Verdict(status=status, reasons=reasons)
