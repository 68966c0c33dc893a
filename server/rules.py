"""The seed's numeric rules, each in one place and cited by section of the county plan.

Source: 清水县 ... 加快重点项目建设实施方案 (``shared/seed``), sections 2, 4 and 9.
Amounts are in yuan (元); energy in tonnes of standard coal (吨标准煤) per year.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

#: §2 总投资原则上500万元以上
SELECTION_MIN_TOTAL_YUAN = Decimal("5000000")
#: §2 年度计划投资200万元以上
SELECTION_MIN_ANNUAL_YUAN = Decimal("2000000")
#: §4 总投资5000万元以上 -> 市级重点投资项目清单
CITY_KEY_MIN_TOTAL_YUAN = Decimal("50000000")
#: §4 1亿元以上 -> 市级重大项目清单
CITY_MAJOR_MIN_TOTAL_YUAN = Decimal("100000000")
#: §4 总投资10亿元以上且年度计划投资2亿元以上 -> 省级重大项目清单
PROVINCIAL_MAJOR_MIN_TOTAL_YUAN = Decimal("1000000000")
PROVINCIAL_MAJOR_MIN_ANNUAL_YUAN = Decimal("200000000")
#: §9 年综合能源消费量5000吨标准煤以上 -> 省发改委节能审查
ENERGY_PROVINCE_MIN_TCE = 5000.0
#: §9 1000—5000吨标准煤 -> 市发改委节能审查; 不满1000吨 -> 县发改局节能登记
ENERGY_CITY_MIN_TCE = 1000.0


class ThresholdExemption(StrEnum):
    """§2: project kinds that may fall below the selection thresholds (视成长性...可适当降低投资标准)."""

    SOCIAL = "social"  # 社会事业
    TECH_RENOVATION = "tech_renovation"  # 重大技术改造
    HIGH_TECH = "high_tech"  # 高科技产业


class ListTier(StrEnum):
    """§4: which list a project is recommended to, by size."""

    COUNTY = "county"  # 县列重点项目
    CITY_KEY = "city_key"  # 市级重点投资项目清单
    CITY_MAJOR = "city_major"  # 市级重大项目清单
    PROVINCIAL_MAJOR = "provincial_major"  # 省级重大项目清单


class EnergyReviewLevel(StrEnum):
    """§9: who reviews a project's energy use."""

    NONE = "none"  # no energy use declared
    COUNTY_REGISTRATION = "county_registration"  # 县发改局节能登记
    CITY = "city"  # 市发改委节能审查
    PROVINCE = "province"  # 省发改委节能审查


def meets_selection_threshold(
    total_yuan: Decimal, annual_yuan: Decimal, exemption: ThresholdExemption | None = None
) -> bool:
    """§2: total >= 5,000,000 and annual >= 2,000,000 yuan, unless an exempt kind of project."""
    if exemption is not None:
        return True
    return total_yuan >= SELECTION_MIN_TOTAL_YUAN and annual_yuan >= SELECTION_MIN_ANNUAL_YUAN


def list_tier(total_yuan: Decimal, annual_yuan: Decimal) -> ListTier:
    """§4: the highest list the project qualifies for."""
    if total_yuan >= PROVINCIAL_MAJOR_MIN_TOTAL_YUAN and annual_yuan >= PROVINCIAL_MAJOR_MIN_ANNUAL_YUAN:
        return ListTier.PROVINCIAL_MAJOR
    if total_yuan >= CITY_MAJOR_MIN_TOTAL_YUAN:
        return ListTier.CITY_MAJOR
    if total_yuan >= CITY_KEY_MIN_TOTAL_YUAN:
        return ListTier.CITY_KEY
    return ListTier.COUNTY


def energy_review_level(annual_tce: float | None) -> EnergyReviewLevel:
    """§9: >= 5000 t province; 1000-5000 t city; < 1000 t county registration."""
    if annual_tce is None:
        return EnergyReviewLevel.NONE
    if annual_tce >= ENERGY_PROVINCE_MIN_TCE:
        return EnergyReviewLevel.PROVINCE
    if annual_tce >= ENERGY_CITY_MIN_TCE:
        return EnergyReviewLevel.CITY
    return EnergyReviewLevel.COUNTY_REGISTRATION
