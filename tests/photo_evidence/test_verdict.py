"""Tests of the photo verdict rules at their boundaries, and of the GCJ-02 shift detector."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import prcoords
import pytest

from gis_data.crs import CGCS2000_GEOD
from server.photo_evidence.exif import PhotoMetadata
from server.photo_evidence.verdict import (
    CHINA_TZ,
    DeviceFix,
    DuplicateRef,
    Severity,
    Verdict,
    VerdictStatus,
    assess_photo,
    distance_m,
    looks_gcj02_shifted,
)

SITE_LAT, SITE_LON = 34.75, 106.14
UPLOADED = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)  # 10:00 Beijing time
TAKEN = datetime(2024, 5, 6, 9, 30, tzinfo=CHINA_TZ)

META = PhotoMetadata(
    format="jpeg",
    width=4000,
    height=3000,
    lat=SITE_LAT,
    lon=SITE_LON,
    taken_at=TAKEN,
    taken_at_has_offset=True,
)


def assess(meta: PhotoMetadata = META, **overrides: Any) -> Verdict:
    arguments: dict[str, Any] = {
        "device_fix": None,
        "site_distance_m": 0.0,
        "site_buffer_m": 50.0,
        "uploaded_at": UPLOADED,
        "check_date": None,
        "gcj_suspect": False,
        "duplicate_of": None,
        "near_duplicate_of": None,
    }
    arguments.update(overrides)
    return assess_photo(meta, **arguments)


def moved(lat: float, lon: float, azimuth: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` away from (lat, lon) towards ``azimuth`` degrees."""
    new_lon, new_lat, _ = CGCS2000_GEOD.fwd(lon, lat, azimuth, metres)
    return new_lat, new_lon


def test_inside_site_recent_photo_is_accepted() -> None:
    verdict = assess()
    assert verdict.status is VerdictStatus.ACCEPTED
    assert verdict.codes == ["inside_site"]
    assert verdict.reasons[0].severity is Severity.INFO


def test_buffer_edge() -> None:
    at_edge = assess(site_distance_m=50.0)
    assert at_edge.codes == ["within_buffer"] and at_edge.status is VerdictStatus.ACCEPTED
    beyond = assess(site_distance_m=50.4)
    assert beyond.codes == ["outside_site"] and beyond.status is VerdictStatus.SUSPICIOUS
    assert beyond.reasons[0].details["distance_m"] == 50.4
    far = assess(site_distance_m=1234.0)
    assert "1234 米" in far.reasons[0].message and "50 米" in far.reasons[0].message


def test_no_location_is_unverifiable_and_says_why() -> None:
    meta = replace(META, lat=None, lon=None, gps_issues=["gps_out_of_range"])
    verdict = assess(meta, site_distance_m=None)
    assert verdict.status is VerdictStatus.UNVERIFIABLE
    assert verdict.codes == ["no_location"]
    assert "gps_out_of_range" in verdict.reasons[0].message


def test_site_without_geometry_is_unverifiable() -> None:
    verdict = assess(site_distance_m=None)
    assert verdict.codes == ["site_geometry_missing"]
    assert verdict.status is VerdictStatus.UNVERIFIABLE


def test_max_age_edge_against_upload_time() -> None:
    exactly = replace(META, taken_at=UPLOADED - timedelta(days=3))
    assert "taken_long_before" not in assess(exactly).codes
    older = replace(META, taken_at=UPLOADED - timedelta(days=3, seconds=1))
    verdict = assess(older)
    assert "taken_long_before" in verdict.codes and verdict.status is VerdictStatus.SUSPICIOUS
    assert "taken_long_before" in assess(exactly, max_age_days=2).codes


def test_max_age_edge_against_check_date_in_beijing_days() -> None:
    check = date(2024, 5, 9)
    # 2024-05-05 23:30 Beijing is 15:30 UTC the same day: four calendar days before the check.
    late_evening = replace(META, taken_at=datetime(2024, 5, 5, 15, 30, tzinfo=UTC))
    assert assess(late_evening, check_date=check, uploaded_at=datetime(2024, 5, 9, 4, tzinfo=UTC)).codes == [
        "inside_site",
        "taken_long_before",
    ]
    # 2024-05-05 16:30 UTC is 2024-05-06 00:30 Beijing: exactly three days, fine.
    after_midnight = replace(META, taken_at=datetime(2024, 5, 5, 16, 30, tzinfo=UTC))
    assert assess(
        after_midnight, check_date=check, uploaded_at=datetime(2024, 5, 9, 4, tzinfo=UTC)
    ).codes == ["inside_site"]
    after_check = assess(META, check_date=date(2024, 5, 5))
    assert "taken_after_check" in after_check.codes


def test_future_with_clock_tolerance() -> None:
    assert "taken_in_future" not in assess(replace(META, taken_at=UPLOADED + timedelta(minutes=10))).codes
    verdict = assess(replace(META, taken_at=UPLOADED + timedelta(minutes=11)))
    assert "taken_in_future" in verdict.codes and verdict.status is VerdictStatus.SUSPICIOUS


def test_naive_time_is_read_as_beijing_time() -> None:
    naive = replace(META, taken_at=datetime(2024, 5, 6, 9, 55), taken_at_has_offset=False)
    verdict = assess(naive)  # 09:55 Beijing = 01:55 UTC, five minutes before upload
    assert verdict.codes == ["inside_site", "taken_at_no_offset"]
    assert verdict.status is VerdictStatus.ACCEPTED


def test_missing_time_falls_back_to_gps_time_or_is_unverifiable() -> None:
    gps_only = replace(META, taken_at=None, gps_time=UPLOADED - timedelta(hours=1))
    assert assess(gps_only).codes == ["inside_site", "taken_at_from_gps"]
    nothing = replace(META, taken_at=None)
    verdict = assess(nothing)
    assert "no_taken_time" in verdict.codes and verdict.status is VerdictStatus.UNVERIFIABLE


def test_device_fix_disagreement_threshold() -> None:
    near = DeviceFix(*moved(SITE_LAT, SITE_LON, 30, 199.5), accuracy_m=10, fixed_at=UPLOADED)
    verdict = assess(device_fix=near)
    assert "exif_device_agree" in verdict.codes and verdict.status is VerdictStatus.ACCEPTED
    far = DeviceFix(*moved(SITE_LAT, SITE_LON, 30, 200.5), accuracy_m=10, fixed_at=UPLOADED)
    verdict = assess(device_fix=far)
    assert "exif_device_disagree" in verdict.codes and verdict.status is VerdictStatus.SUSPICIOUS
    assert "200.5 米" in verdict.reasons[-1].message and "超过 200 米" in verdict.reasons[-1].message
    coarse = DeviceFix(*moved(SITE_LAT, SITE_LON, 30, 450), accuracy_m=500, fixed_at=UPLOADED)
    assert "exif_device_agree" in assess(device_fix=coarse).codes  # a 500 m fix cannot call 450 m


def test_duplicates_are_suspicious() -> None:
    earlier = DuplicateRef(
        photo_id=17,
        project_id=3,
        project_name="清水县城区供水工程",
        uploaded_at=datetime(2024, 3, 1, 2, tzinfo=UTC),
    )
    verdict = assess(duplicate_of=earlier)
    assert verdict.codes == ["inside_site", "reused_photo"]
    assert "#17" in verdict.reasons[-1].message and "清水县城区供水工程" in verdict.reasons[-1].message
    assert verdict.status is VerdictStatus.SUSPICIOUS
    near = assess(near_duplicate_of=replace(earlier, hash_distance=4))
    assert near.codes == ["inside_site", "near_duplicate"] and "4/64" in near.reasons[-1].message


def test_uploaded_at_must_be_aware() -> None:
    with pytest.raises(ValueError):
        assess(uploaded_at=datetime(2024, 5, 6, 10, 0))


def test_distance_m_on_cgcs2000() -> None:
    assert distance_m(34.75, 106.14, 34.76, 106.14) == pytest.approx(1109.4, abs=1.0)
    assert distance_m(34.75, 106.14, 34.75, 106.14) == 0


def test_gcj02_shift_near_qingshui() -> None:
    gcj = prcoords.wgs_gcj((SITE_LAT, SITE_LON))  # what a Chinese map app would write for the site
    offset = distance_m(SITE_LAT, SITE_LON, gcj.lat, gcj.lon)
    assert 350 < offset < 450  # ~405 m here (+390 m east, -110 m north)
    assert looks_gcj02_shifted(gcj.lat, gcj.lon, SITE_LAT, SITE_LON)
    # A genuine WGS84 photo at the site, or one the same distance away in another direction, is not a suspect.
    assert not looks_gcj02_shifted(SITE_LAT, SITE_LON, SITE_LAT, SITE_LON)
    assert not looks_gcj02_shifted(*moved(SITE_LAT, SITE_LON, 180, offset), SITE_LAT, SITE_LON)
    assert not looks_gcj02_shifted(*moved(SITE_LAT, SITE_LON, 10, 1500), SITE_LAT, SITE_LON)
    # Tolerance edge: 100 m beyond the GCJ point is within 120 m after conversion, 200 m is not.
    assert looks_gcj02_shifted(*moved(gcj.lat, gcj.lon, 0, 100), SITE_LAT, SITE_LON)
    assert not looks_gcj02_shifted(*moved(gcj.lat, gcj.lon, 0, 200), SITE_LAT, SITE_LON)

    shifted = replace(META, lat=gcj.lat, lon=gcj.lon)
    verdict = assess(shifted, site_distance_m=offset, gcj_suspect=True)
    assert verdict.codes == ["outside_site", "gcj02_shift_suspected"]
    assert verdict.status is VerdictStatus.SUSPICIOUS
    assert (shifted.lat, shifted.lon) == (gcj.lat, gcj.lon)  # nothing corrected
