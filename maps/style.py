"""Colours and Chinese labels shared by the web map, the printed map and the pages' legends.

One palette, so the folium map, the PNG and the dashboard cards never disagree about what red means.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StatusStyle:
    """How one progress status is drawn and named."""

    code: str
    label: str
    color: str
    #: Lower is worse; a cluster of markers takes the colour of its worst member.
    rank: int


#: Progress status of a project at the latest monthly dispatch (server.supervision_rules.ProgressStatus),
#: plus ``no_data`` for a project without a status that month. Worst first.
STATUS_STYLES: tuple[StatusStyle, ...] = (
    StatusStyle("seriously_lagging", "严重滞后", "#c62828", 0),
    StatusStyle("not_started", "未按期开工", "#6a1b9a", 1),
    StatusStyle("lagging", "进度滞后", "#ef8f00", 2),
    StatusStyle("on_track", "正常推进", "#2e7d32", 3),
    StatusStyle("completed", "已完成", "#1565c0", 4),
    StatusStyle("pending", "未到开工期", "#78909c", 5),
    StatusStyle("no_data", "暂无调度数据", "#b0bec5", 6),
)
STATUS_BY_CODE: dict[str, StatusStyle] = {s.code: s for s in STATUS_STYLES}
NO_DATA = "no_data"


def status_style(code: str | None) -> StatusStyle:
    """The style of a progress status; unknown or missing codes draw as 'no data'."""
    return STATUS_BY_CODE.get(code or NO_DATA, STATUS_BY_CODE[NO_DATA])


#: Land-demand parcels by the verdict of their latest conflict check (server.land_rules.Verdict).
VERDICT_STYLES: dict[str, tuple[str, str]] = {
    "compliant": ("符合规划", "#43a047"),
    "needs_adjustment": ("需调整", "#fb8c00"),
    "blocked": ("冲突：不能报批", "#d32f2f"),
    "unchecked": ("尚未核查", "#90a4ae"),
}

#: Evidence photos by their verdict (server.photo_evidence.verdict.VerdictStatus).
PHOTO_VERDICT_STYLES: dict[str, tuple[str, str]] = {
    "accepted": ("可采信", "#2e7d32"),
    "suspicious": ("存疑", "#ef6c00"),
    "unverifiable": ("无法核验", "#757575"),
}

#: Plan layers drawn from the vector tiles (name, outline colour, fill colour).
PLAN_LAYER_STYLES: dict[str, tuple[str, str, str]] = {
    "farmland": ("永久基本农田", "#c9a227", "#f4e27a"),
    "redline": ("生态保护红线", "#b71c1c", "#ef9a9a"),
    "urban_boundary": ("城镇开发边界", "#6a1b9a", "#00000000"),
}

TOWNSHIP_LINE = "#455a64"
COUNTY_LINE = "#263238"
SITE_LINE = "#0d47a1"


def verdict_style(code: str | None) -> tuple[str, str]:
    """(label, colour) of a parcel verdict; a parcel never checked is 'unchecked'."""
    return VERDICT_STYLES.get(code or "unchecked", VERDICT_STYLES["unchecked"])


def photo_verdict_style(code: str | None) -> tuple[str, str]:
    """(label, colour) of a photo verdict."""
    return PHOTO_VERDICT_STYLES.get(code or "unverifiable", PHOTO_VERDICT_STYLES["unverifiable"])
