"""Supervision rules at their boundaries: status thresholds, letters, overdue dates, leader visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from server.supervision_rules import (
    LetterKind,
    LetterRules,
    ProgressRules,
    ProgressStatus,
    expected_by,
    is_overdue,
    leader_month_flags,
    month_status,
    propose_letter,
)

RULES = ProgressRules()
JUNE = dt.date(2026, 6, 1)  # linear curve: 6/12 of the annual plan expected by the end of June


def _status(
    ytd: str,
    *,
    annual: str = "1200",
    start=dt.date(2026, 1, 1),
    construction="under_construction",
    month=JUNE,
) -> ProgressStatus:
    return month_status(
        month=month,
        annual_plan=D(annual),
        ytd_completed=D(ytd),
        planned_start=start,
        construction_status=construction,
        rules=RULES,
    ).status


def test_expected_curve():
    assert expected_by(D("1200"), 6, RULES) == D("600.00")
    assert expected_by(D("1200"), 12, RULES) == D("1200.00")


@pytest.mark.parametrize(
    ("ytd", "expected"),
    [
        ("480", ProgressStatus.ON_TRACK),  # exactly 0.8 of 600
        ("479.99", ProgressStatus.LAGGING),
        ("300", ProgressStatus.LAGGING),  # exactly 0.5
        ("299.99", ProgressStatus.SERIOUSLY_LAGGING),
        ("1200", ProgressStatus.COMPLETED),
    ],
)
def test_lag_thresholds(ytd, expected):
    assert _status(ytd) is expected


def test_not_started_depends_on_planned_start():
    assert _status("0", construction="not_started", start=dt.date(2026, 6, 30)) is ProgressStatus.NOT_STARTED
    assert _status("0", construction="not_started", start=dt.date(2026, 7, 1)) is ProgressStatus.PENDING
    assert _status("0", construction="completed") is ProgressStatus.COMPLETED


def test_custom_curve_is_validated():
    with pytest.raises(ValueError):
        ProgressRules(curve=(0.5,) * 11)
    with pytest.raises(ValueError):
        ProgressRules(lagging_below=0.4, seriously_below=0.5)


TODAY = dt.date(2026, 11, 10)
LR = LetterRules()


def _letter(statuses, *, open_problems=0, overdue=0, last=None):
    return propose_letter(
        statuses=statuses,
        open_problems=open_problems,
        overdue_problems=overdue,
        last_letter=last,
        today=TODAY,
        rules=LR,
    )


def test_letter_rules():
    S, L, N, OK = (
        ProgressStatus.SERIOUSLY_LAGGING,
        ProgressStatus.LAGGING,
        ProgressStatus.NOT_STARTED,
        ProgressStatus.ON_TRACK,
    )
    assert _letter([OK]) is None
    assert _letter([N]).kind is LetterKind.REMINDER
    assert _letter([N], last=(LetterKind.REMINDER, TODAY - dt.timedelta(days=30))).kind is LetterKind.PUSH
    assert _letter([N], last=(LetterKind.REMINDER, TODAY - dt.timedelta(days=29))) is None  # sent recently
    assert _letter([L, S]).kind is LetterKind.PUSH
    assert _letter([S, S]).kind is LetterKind.SUPERVISION  # two serious months in a row
    assert _letter([S, L]) is None or _letter([S, L]).kind is not LetterKind.SUPERVISION
    assert _letter([OK], open_problems=2) is None
    assert _letter([OK], open_problems=3).kind is LetterKind.REMINDER
    assert _letter([OK], overdue=1) is None
    assert _letter([OK], overdue=2).kind is LetterKind.SUPERVISION


def test_overdue_from_the_day_after_the_deadline():
    deadline = dt.date(2026, 11, 10)
    assert not is_overdue("open", deadline, deadline)
    assert is_overdue("open", deadline, deadline + dt.timedelta(days=1))
    assert is_overdue("rectifying", deadline, deadline + dt.timedelta(days=1))
    assert not is_overdue("closed", deadline, deadline + dt.timedelta(days=30))


def test_leader_month_flags_section_6():
    assert leader_month_flags(2, 1) == []
    assert leader_month_flags(1, 1) == ["too_few_visits"]
    assert leader_month_flags(2, 0) == ["too_few_meetings"]
    assert leader_month_flags(0, 0) == ["too_few_visits", "too_few_meetings"]
