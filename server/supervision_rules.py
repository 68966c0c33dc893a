"""The seed's supervision rules (§6, §11, §15, §16), each in one place, with documented thresholds.

Pure functions over plain values: the services gather the facts and store the results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

#: Linear plan curve: by the end of month m, m/12 of the annual plan should be done.
LINEAR_CURVE: tuple[float, ...] = tuple(m / 12 for m in range(1, 13))


class ProgressStatus(StrEnum):
    """How a project stands against its annual plan (月度调度)."""

    NOT_STARTED = "not_started"  # 未按期开工：计划开工日期已过仍未开工
    PENDING = "pending"  # 尚未到计划开工日期
    ON_TRACK = "on_track"  # 正常推进
    LAGGING = "lagging"  # 进度滞后
    SERIOUSLY_LAGGING = "seriously_lagging"  # 进度严重滞后
    COMPLETED = "completed"  # 已完成年度计划或竣工


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressRules:
    """Thresholds of the monthly status (settings; defaults documented in the README)."""

    #: Cumulative share of the annual plan expected by the end of each month (12 values, last 1.0).
    curve: tuple[float, ...] = LINEAR_CURVE
    #: Below this share of the expected year-to-date amount a project is lagging ...
    lagging_below: float = 0.8
    #: ... and below this one seriously lagging.
    seriously_below: float = 0.5
    #: Days after the planned start before a project that has not started counts as not started on time.
    start_grace_days: int = 0

    def __post_init__(self) -> None:
        if len(self.curve) != 12 or any(b < a for a, b in zip(self.curve, self.curve[1:], strict=False)):
            raise ValueError("curve must have 12 non-decreasing cumulative shares")
        if not 0 < self.seriously_below < self.lagging_below <= 1:
            raise ValueError("need 0 < seriously_below < lagging_below <= 1")


@dataclass(frozen=True, slots=True)
class MonthStatus:
    """The status of a project at the end of a month, with the figures behind it."""

    month: dt.date
    status: ProgressStatus
    ytd_completed: Decimal
    ytd_expected: Decimal
    ratio: float | None


def expected_by(annual_plan: Decimal, month: int, rules: ProgressRules) -> Decimal:
    """Year-to-date amount expected at the end of ``month`` (1-12) by the plan curve."""
    return (annual_plan * Decimal(str(rules.curve[month - 1]))).quantize(Decimal("0.01"))


def month_status(
    *,
    month: dt.date,
    annual_plan: Decimal,
    ytd_completed: Decimal,
    planned_start: dt.date,
    construction_status: str,
    rules: ProgressRules,
) -> MonthStatus:
    """§16 monthly dispatch: status at the end of ``month`` (first day of the month)."""
    end_of_month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    expected = expected_by(annual_plan, month.month, rules)
    ratio = float(ytd_completed / expected) if expected > 0 else None
    if construction_status == "completed" or (annual_plan > 0 and ytd_completed >= annual_plan):
        status = ProgressStatus.COMPLETED
    elif construction_status == "not_started" and ytd_completed == 0:
        due = planned_start + dt.timedelta(days=rules.start_grace_days)
        status = ProgressStatus.NOT_STARTED if due <= end_of_month else ProgressStatus.PENDING
    elif ratio is None or ratio >= rules.lagging_below:
        status = ProgressStatus.ON_TRACK
    elif ratio >= rules.seriously_below:
        status = ProgressStatus.LAGGING
    else:
        status = ProgressStatus.SERIOUSLY_LAGGING
    return MonthStatus(month, status, ytd_completed, expected, ratio)


class LetterKind(StrEnum):
    """§11: the three letters to projects that start late, move slowly or have many problems."""

    REMINDER = "reminder"  # 工作提醒函
    PUSH = "push"  # 工作推进函
    SUPERVISION = "supervision"  # 工作督办函


LETTER_TITLES = {
    LetterKind.REMINDER: "工作提醒函",
    LetterKind.PUSH: "工作推进函",
    LetterKind.SUPERVISION: "工作督办函",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LetterRules:
    """When the system proposes a letter (thresholds are settings)."""

    #: Open problems at or above which a reminder is proposed.
    many_open_problems: int = 3
    #: Overdue problems at or above which a supervision order is proposed.
    many_overdue_problems: int = 2
    #: Consecutive seriously-lagging months that call for a supervision order.
    serious_months_for_order: int = 2
    #: Days after an issued letter without improvement before the next, stronger letter.
    escalate_after_days: int = 30
    #: Days given to answer a letter.
    answer_days: int = 15


@dataclass(frozen=True, slots=True)
class LetterProposal:
    """A letter the rules propose for one project, with the facts that triggered it."""

    kind: LetterKind
    rule: str
    facts: str


def propose_letter(
    *,
    statuses: list[ProgressStatus],
    open_problems: int,
    overdue_problems: int,
    last_letter: tuple[LetterKind, dt.date] | None,
    today: dt.date,
    rules: LetterRules,
) -> LetterProposal | None:
    """The strongest letter the facts call for, or None; ``statuses`` are the latest months, oldest first."""
    current = statuses[-1] if statuses else None
    serious_run = 0
    for status in reversed(statuses):
        if status != ProgressStatus.SERIOUSLY_LAGGING:
            break
        serious_run += 1
    recently_sent = last_letter is not None and (today - last_letter[1]).days < rules.escalate_after_days
    earlier = last_letter[0] if last_letter else None
    proposal: LetterProposal | None = None
    if serious_run >= rules.serious_months_for_order or overdue_problems >= rules.many_overdue_problems:
        proposal = LetterProposal(
            LetterKind.SUPERVISION,
            "serious_lag_or_overdue_problems",
            f"连续 {serious_run} 个月进度严重滞后，逾期未整改问题 {overdue_problems} 个。",
        )
    elif current == ProgressStatus.NOT_STARTED:
        kind = LetterKind.PUSH if earlier in (LetterKind.REMINDER, LetterKind.PUSH) else LetterKind.REMINDER
        proposal = LetterProposal(kind, "not_started_on_time", "计划开工日期已过，项目仍未开工。")
    elif current == ProgressStatus.SERIOUSLY_LAGGING:
        proposal = LetterProposal(LetterKind.PUSH, "seriously_lagging", "年度投资完成进度严重滞后于计划。")
    elif open_problems >= rules.many_open_problems:
        proposal = LetterProposal(
            LetterKind.REMINDER, "many_open_problems", f"尚有 {open_problems} 个问题未整改到位。"
        )
    if proposal is None or recently_sent:
        return None  # give the project ``escalate_after_days`` to respond before the next letter
    return proposal


class ProblemStatus(StrEnum):
    """A problem's state on the problem list (问题清单)."""

    OPEN = "open"  # 待整改
    RECTIFYING = "rectifying"  # 整改中
    CLOSED = "closed"  # 已整改（核实后销号）


def is_overdue(status: str, deadline: dt.date, today: dt.date) -> bool:
    """A problem not closed by its rectification deadline (限期整改) is overdue from the next day."""
    return status != ProblemStatus.CLOSED and today > deadline


#: §6: at least this many site visits and progress meetings per leader per month.
LEADER_MIN_VISITS = 2
LEADER_MIN_MEETINGS = 1


def leader_month_flags(visits: int, meetings: int) -> list[str]:
    """§6 shortfalls of one leader-month."""
    flags = []
    if visits < LEADER_MIN_VISITS:
        flags.append("too_few_visits")
    if meetings < LEADER_MIN_MEETINGS:
        flags.append("too_few_meetings")
    return flags
