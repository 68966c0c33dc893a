"""Tests of the deterministic demo key-project dataset; no database."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from decimal import Decimal

import pytest
from shapely.geometry import LineString, Point, Polygon

from gis_data.crs import AREA_SRID, STORAGE_SRID, reproject
from gis_data.demo import (
    CATEGORIES,
    DEMO_DEPARTMENTS,
    DEMO_LEADERS,
    DEMO_LEGAL_PERSON_UNITS,
    INDUSTRIES,
    STATUSES,
    DemoLeader,
    DemoProject,
    demo_projects,
)
from gis_data.reference_layers import load_county, load_townships

CODE_RE = re.compile(r"^(20\d{2})-620521-\d{2}-0[123]-\d{6}$")
WAN = Decimal(10000)
FIVE_MILLION = Decimal(5_000_000)
TWO_MILLION = Decimal(2_000_000)


@pytest.fixture(scope="module")
def projects() -> list[DemoProject]:
    """The default demo list, generated once."""
    return demo_projects()


def test_reference_lists() -> None:
    """Departments, legal-person units and leaders have the expected sizes and are unique."""
    assert 11 <= len(DEMO_DEPARTMENTS) <= 13
    assert len(set(DEMO_DEPARTMENTS)) == len(DEMO_DEPARTMENTS)
    assert 8 <= len(DEMO_LEGAL_PERSON_UNITS) <= 12
    assert len(set(DEMO_LEGAL_PERSON_UNITS)) == len(DEMO_LEGAL_PERSON_UNITS)
    assert 6 <= len(DEMO_LEADERS) <= 8
    assert all(isinstance(leader, DemoLeader) for leader in DEMO_LEADERS)
    assert len({leader.username for leader in DEMO_LEADERS}) == len(DEMO_LEADERS)
    assert all(leader.username.startswith("leader_") for leader in DEMO_LEADERS)


def test_count_and_uniqueness(projects: list[DemoProject]) -> None:
    """About 60 projects with unique, well-formed codes and unique names."""
    assert 55 <= len(projects) <= 70
    codes = [p.code for p in projects]
    assert len(set(codes)) == len(codes)
    assert all(CODE_RE.match(c) for c in codes), [c for c in codes if not CODE_RE.match(c)]
    names = [p.name for p in projects]
    assert len(set(names)) == len(names)


def test_determinism() -> None:
    """The same seed gives identical output; another seed gives different output."""
    assert demo_projects(2026) == demo_projects(2026)
    assert demo_projects(7) == demo_projects(7)
    assert demo_projects(7) != demo_projects(2026)


def test_categories_and_industries(projects: list[DemoProject]) -> None:
    """All categories (roughly 35/45/20 %) and all industries are present."""
    counts = Counter(p.category for p in projects)
    assert set(counts) == set(CATEGORIES)
    n = len(projects)
    assert 0.25 < counts["new_start"] / n < 0.45
    assert 0.35 < counts["continuing"] / n < 0.55
    assert 0.10 < counts["preparatory"] / n < 0.30
    assert {p.industry for p in projects} == set(INDUSTRIES)
    assert all(p.list_year == 2026 for p in projects)


def test_townships_spread(projects: list[DemoProject]) -> None:
    """Projects cover most townships, with the most in the county seat 永清镇."""
    names = {t.name for t in load_townships()}
    counts = Counter(p.township for p in projects)
    assert set(counts) <= names
    assert len(counts) >= 14
    assert counts.most_common(1)[0][0] == "永清镇"


def test_units_and_leaders(projects: list[DemoProject]) -> None:
    """Units and leaders come from the demo lists."""
    usernames = {leader.username for leader in DEMO_LEADERS}
    for p in projects:
        assert p.lead_unit in DEMO_DEPARTMENTS
        assert 1 <= len(p.responsible_units) <= 3
        assert len(set(p.responsible_units)) == len(p.responsible_units)
        for unit in p.responsible_units:
            assert unit in DEMO_DEPARTMENTS or unit == f"{p.township}人民政府", unit
        assert p.lead_unit not in p.responsible_units
        assert p.legal_person_unit in DEMO_LEGAL_PERSON_UNITS
        assert p.leader in usernames
        assert p.content and p.content.endswith("。")


def test_investment_amounts(projects: list[DemoProject]) -> None:
    """Amounts are whole 万元, annual <= total, thresholds hold unless exempted."""
    for p in projects:
        assert p.total_investment_yuan % WAN == 0 and p.annual_plan_yuan % WAN == 0
        assert 0 < p.annual_plan_yuan <= p.total_investment_yuan, p.name
        below = p.total_investment_yuan < FIVE_MILLION or p.annual_plan_yuan < TWO_MILLION
        if below:
            assert p.threshold_exemption == "social", p.name
            assert p.industry == "社会事业"
        assert p.threshold_exemption in (None, "social")
    exempt = [p for p in projects if p.threshold_exemption]
    assert 2 <= len(exempt) <= 3
    assert all(p.total_investment_yuan < FIVE_MILLION for p in exempt)


def test_list_tiers(projects: list[DemoProject]) -> None:
    """Provincial, city-major and city-list tiers are all represented."""
    provincial = [
        p
        for p in projects
        if p.total_investment_yuan >= Decimal(1_000_000_000) and p.annual_plan_yuan >= Decimal(200_000_000)
    ]
    assert 1 <= len(provincial) <= 2
    assert sum(p.total_investment_yuan >= Decimal(100_000_000) for p in projects) >= 5
    assert sum(p.total_investment_yuan >= Decimal(50_000_000) for p in projects) >= 10


def test_energy_levels(projects: list[DemoProject]) -> None:
    """Energy use: mostly none or below 1000 tce, a few 1000-5000, one or two at least 5000."""
    values = [p.energy_tce for p in projects]
    assert 1 <= sum(v is not None and v >= 5000 for v in values) <= 2
    assert 2 <= sum(v is not None and 1000 <= v < 5000 for v in values) <= 8
    assert sum(v is None or v < 1000 for v in values) >= 0.8 * len(values)


def test_dates_and_status(projects: list[DemoProject]) -> None:
    """Planned starts fit the category; statuses are valid; preparatory ones mostly not started."""
    for p in projects:
        assert p.status in STATUSES
        assert isinstance(p.planned_start, datetime.date)
        if p.category == "continuing":
            assert p.planned_start.year < 2026
        else:
            assert 2025 <= p.planned_start.year <= 2026
        assert int(p.code[:4]) <= max(p.planned_start.year, 2026)
    prep = [p for p in projects if p.category == "preparatory"]
    assert sum(p.status == "not_started" for p in prep) > len(prep) / 2


def test_progress(projects: list[DemoProject]) -> None:
    """Monthly reports fit the status and never exceed the annual plan."""
    months = [datetime.date(2026, m, 1) for m in range(1, 11)]
    ratios = []
    for p in projects:
        amounts = [r.amount_yuan for r in p.progress]
        assert all(a >= 0 and a % 1000 == 0 for a in amounts)
        assert sum(amounts, Decimal(0)) <= p.annual_plan_yuan, p.name
        assert all(r.note for r in p.progress)
        if p.status in ("under_construction", "completed"):
            assert [r.month for r in p.progress] == months, p.name
            ratios.append(sum(amounts, Decimal(0)) / p.annual_plan_yuan)
        elif p.status == "not_started":
            assert sum(amounts, Decimal(0)) == 0
        for r in p.progress:
            assert r.month.day == 1 and r.month in months
    # Some on pace, some lagging badly.
    assert any(r >= Decimal("0.7") for r in ratios)
    assert any(r <= Decimal("0.35") for r in ratios)


def test_sites(projects: list[DemoProject]) -> None:
    """Sites are valid, inside their township and the county, 200 m clear of the county edge."""
    county = load_county()
    edge = reproject(county, STORAGE_SRID, AREA_SRID).boundary
    townships = {t.name: t.geometry for t in load_townships()}
    kinds = Counter()
    for p in projects:
        site = p.site
        assert site.is_valid and not site.is_empty, p.name
        assert townships[p.township].contains(site), p.name
        assert county.contains(site), p.name
        planar = reproject(site, STORAGE_SRID, AREA_SRID)
        assert edge.distance(planar) >= 200.0, p.name
        kinds[site.geom_type] += 1
        if isinstance(site, LineString):
            assert 1990.0 <= planar.length <= 8010.0, (p.name, planar.length)
        elif isinstance(site, Polygon):
            assert 0.99e4 <= planar.area <= 40.01e4, (p.name, planar.area)
            assert 4 <= len(site.exterior.coords) - 1 <= 8
            assert len(site.interiors) == 0
        else:
            assert isinstance(site, Point), p.name
    assert kinds["LineString"] >= 5 and kinds["Polygon"] >= 20 and kinds["Point"] >= 2
