"""The land bureau's verdict on a parcel from its overlaps (seed §7, §12; DOMAIN.md "Land").

Pure: areas in square metres come in, a verdict with reasons goes out.  Overlaps smaller than the
sliver threshold are reported apart and never make a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gis_data.crs import m2_to_mu


class Verdict(StrEnum):
    """How a parcel stands against the plan."""

    COMPLIANT = "compliant"  # 符合规划
    NEEDS_ADJUSTMENT = "needs_adjustment"  # 需调整
    BLOCKED = "blocked"  # 占用永久基本农田或生态保护红线，不能报批


#: Rank of verdicts, worst last.
_RANK = {Verdict.COMPLIANT: 0, Verdict.NEEDS_ADJUSTMENT: 1, Verdict.BLOCKED: 2}

LAYER_NAMES_ZH = {
    "farmland": "永久基本农田",
    "redline": "生态保护红线",
    "urban_boundary": "城镇开发边界",
    "landuse": "规划用地用海分类",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LandCheckRules:
    """Thresholds of the check (settings with documented defaults)."""

    #: Overlaps below this area are slivers: reported apart, never a conflict.
    sliver_m2: float = 1.0
    #: Share of the parcel in a planned class other than its own that calls for adjustment.
    class_mismatch_share: float = 0.10


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason behind a verdict."""

    code: str
    verdict: Verdict
    message: str
    area_m2: float

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return {
            "code": self.code,
            "verdict": self.verdict.value,
            "message": self.message,
            "area_m2": round(self.area_m2, 4),
        }


@dataclass(slots=True)
class ParcelFacts:
    """What the overlay found for one parcel."""

    area_m2: float
    land_class: str | None
    layers_present: set[str]
    layer_m2: dict[str, float] = field(default_factory=dict)
    class_m2: dict[str, float] = field(default_factory=dict)
    other_parcels_m2: dict[str, float] = field(default_factory=dict)
    outside_county_m2: float = 0.0


def _area_text(m2: float) -> str:
    return f"{m2:,.2f} 平方米（{m2_to_mu(m2):,.2f} 亩）"


def judge(facts: ParcelFacts, rules: LandCheckRules) -> tuple[Verdict, list[Reason], list[dict[str, object]]]:
    """Verdict, reasons and slivers for one parcel."""
    reasons: list[Reason] = []
    slivers: list[dict[str, object]] = []

    def significant(target: str, ref: str, m2: float) -> bool:
        if m2 <= 0:
            return False
        if m2 < rules.sliver_m2:
            slivers.append({"target": target, "ref": ref, "area_m2": m2})
            return False
        return True

    for layer in ("farmland", "redline"):
        m2 = facts.layer_m2.get(layer, 0.0)
        if significant("layer", layer, m2):
            reasons.append(
                Reason(
                    f"{layer}_overlap",
                    Verdict.BLOCKED,
                    f"占用{LAYER_NAMES_ZH[layer]} {_area_text(m2)}，占地块 {m2 / facts.area_m2:.1%}。",
                    m2,
                )
            )
    if "urban_boundary" in facts.layers_present:
        outside = max(facts.area_m2 - facts.layer_m2.get("urban_boundary", 0.0), 0.0)
        if significant("outside", "urban_boundary", outside):
            reasons.append(
                Reason(
                    "outside_urban_boundary",
                    Verdict.NEEDS_ADJUSTMENT,
                    f"{_area_text(outside)}位于城镇开发边界外，需核实选址是否符合规划。",
                    outside,
                )
            )
    if significant("outside", "county", facts.outside_county_m2):
        reasons.append(
            Reason(
                "outside_county",
                Verdict.NEEDS_ADJUSTMENT,
                f"{_area_text(facts.outside_county_m2)}位于县界外。",
                facts.outside_county_m2,
            )
        )
    for other, m2 in sorted(facts.other_parcels_m2.items()):
        if significant("parcel", other, m2):
            reasons.append(
                Reason(
                    "parcel_overlap",
                    Verdict.NEEDS_ADJUSTMENT,
                    f"与其他项目地块 {other} 重叠 {_area_text(m2)}（同一土地重复安排）。",
                    m2,
                )
            )
    if facts.land_class and facts.class_m2:
        own = facts.land_class[:2]
        foreign = sum(m2 for code, m2 in facts.class_m2.items() if code and code[:2] != own)
        if foreign >= rules.sliver_m2 and foreign / facts.area_m2 > rules.class_mismatch_share:
            reasons.append(
                Reason(
                    "landuse_class_mismatch",
                    Verdict.NEEDS_ADJUSTMENT,
                    f"地块用途 {facts.land_class} 与规划用地分类不一致的面积 {_area_text(foreign)}"
                    f"（{foreign / facts.area_m2:.1%}）。",
                    foreign,
                )
            )
    verdict = max((r.verdict for r in reasons), key=_RANK.__getitem__, default=Verdict.COMPLIANT)
    return verdict, reasons, slivers
