"""The seed's rules at their boundaries (§2 selection, §4 list tier, §9 energy review)."""

from decimal import Decimal as D

import pytest

from server import rules
from server.rules import EnergyReviewLevel, ListTier, ThresholdExemption


@pytest.mark.parametrize(
    ("total", "annual", "exemption", "expected"),
    [
        (D("5000000"), D("2000000"), None, True),
        (D("4999999.99"), D("2000000"), None, False),
        (D("5000000"), D("1999999.99"), None, False),
        (D("3000000"), D("1000000"), ThresholdExemption.SOCIAL, True),
        (D("3000000"), D("1000000"), ThresholdExemption.TECH_RENOVATION, True),
        (D("3000000"), D("1000000"), ThresholdExemption.HIGH_TECH, True),
    ],
)
def test_selection_threshold_section_2(total, annual, exemption, expected):
    assert rules.meets_selection_threshold(total, annual, exemption) is expected


@pytest.mark.parametrize(
    ("total", "annual", "expected"),
    [
        (D("49999999.99"), D("2000000"), ListTier.COUNTY),
        (D("50000000"), D("2000000"), ListTier.CITY_KEY),
        (D("99999999.99"), D("2000000"), ListTier.CITY_KEY),
        (D("100000000"), D("2000000"), ListTier.CITY_MAJOR),
        (D("999999999.99"), D("300000000"), ListTier.CITY_MAJOR),
        (D("1000000000"), D("199999999.99"), ListTier.CITY_MAJOR),
        (D("1000000000"), D("200000000"), ListTier.PROVINCIAL_MAJOR),
    ],
)
def test_list_tier_section_4(total, annual, expected):
    assert rules.list_tier(total, annual) is expected


@pytest.mark.parametrize(
    ("tce", "expected"),
    [
        (None, EnergyReviewLevel.NONE),
        (0.0, EnergyReviewLevel.COUNTY_REGISTRATION),
        (999.99, EnergyReviewLevel.COUNTY_REGISTRATION),
        (1000.0, EnergyReviewLevel.CITY),
        (4999.99, EnergyReviewLevel.CITY),
        (5000.0, EnergyReviewLevel.PROVINCE),
    ],
)
def test_energy_review_level_section_9(tce, expected):
    assert rules.energy_review_level(tce) is expected
