"""Land use cases: plan editions, land-demand parcels, conflict checks, the annual cycle, reports."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from gis_data import crs
from gis_data.boundary_txt import (
    BoundaryTxtError,
    FileIssuesError,
    ParcelForExport,
    read_boundary_txt,
    write_boundary_txt,
)
from gis_data.land_report import land_check_workbook
from gis_data.plan_index import PlanIndex
from gis_data.plan_io import PlanFileError, detect_layer_kind, read_vector_file
from gis_data.vector_out import to_geopackage, to_zipped_shapefile
from maps import style
from server.errors import Forbidden, Invalid, NotFound
from server.land_rules import LandCheckRules, ParcelFacts, judge
from server.models import ApprovalBatch, LandCheck, LandCheckOverlap, LandParcel, PlanEdition, User
from server.permissions import can_manage_plan, can_read_project, can_submit_parcels, project_scope
from server.repositories import land as land_repo
from server.repositories import projects as projects_repo
from server.schemas.land import BatchRead, CheckRead, EditionRead, OverlapRead, ParcelImportRead, ParcelRead
from server.services import audit, plan_index_cache
from server.services.transaction import unit_of_work

Progress = Callable[[int, int], None] | None
DEFAULT_RULES = LandCheckRules()

#: §12: next year's land demand is due by the end of October.
DEMAND_DEADLINE_MONTH_DAY = (10, 31)
_CODE_FIELDS = ("DKBH", "PARCEL_CODE", "CODE", "BH", "ID")
_NAME_FIELDS = ("DKMC", "NAME", "MC")
_CLASS_CODE_FIELDS = ("YDYHFLDM", "YDYHDM", "GHDLBM", "GHYDDM", "DLBM", "CLASS_CODE", "DLDM")
_CLASS_NAME_FIELDS = ("YDYHFLMC", "YDYHMC", "GHDLMC", "GHYDMC", "DLMC", "CLASS_NAME")


# --- helpers -------------------------------------------------------------------------------------


def demand_deadline(year: int) -> dt.date:
    """§12: the land demand for ``year`` is due by 31 October of the year before."""
    return dt.date(year - 1, *DEMAND_DEADLINE_MONTH_DAY)


def _polygonal(geom: BaseGeometry) -> MultiPolygon | None:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon | MultiPolygon)]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if isinstance(part, MultiPolygon) else [part])
    return MultiPolygon(polys) if polys else None


def _field(row: dict[str, Any], names: Sequence[str]) -> str | None:
    upper = {str(k).upper(): v for k, v in row.items()}
    for name in names:
        value = upper.get(name)
        if value is not None and not (isinstance(value, float) and math.isnan(value)) and str(value).strip():
            return str(value).strip()
    return None


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value)


def _issue_dicts(issues: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {"code": i.code, "message": i.message, "line": i.line, "features": list(getattr(i, "features", ()))}
        for i in issues
    ]


def _file_error(filename: str, error: FileIssuesError) -> Invalid:
    first = error.issues[0] if error.issues else None
    message = first.message if first else "文件无法读取"
    # Readers that know the file name already start their messages with it ("x.txt 第 3 行：…").
    detail = message if message.startswith(filename) else f"{filename}：{message}"
    if len(error.issues) > 1:
        detail += f"（共 {len(error.issues)} 个错误，见 issues）"
    return Invalid(detail, code=error.code, extra={"file": filename, "issues": _issue_dicts(error.issues)})


# --- plan editions -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanFileSpec:
    """One file of a plan delivery; ``kind`` overrides what the name and fields suggest."""

    path: Path
    display_name: str
    kind: str | None = None
    layer: str | None = None


def _edition_read(edition: PlanEdition) -> EditionRead:
    return EditionRead(
        id=edition.id,
        name=edition.name,
        description=edition.description,
        created_at=edition.created_at,
        report=edition.report or {},
    )


def list_editions(session: Session, actor: User) -> list[EditionRead]:
    """Every plan edition, newest first (roles that read the whole list)."""
    if not project_scope(actor).all:
        raise Forbidden("无权查看规划数据。")
    return [_edition_read(e) for e in land_repo.list_editions(session)]


def import_plan_edition(
    session: Session,
    actor: User,
    *,
    name: str,
    files: Sequence[PlanFileSpec],
    description: str = "",
    rules: LandCheckRules = DEFAULT_RULES,
    progress: Progress = None,
) -> EditionRead:
    """Import a plan delivery as a new edition (all or nothing), then re-check every open parcel."""
    if not can_manage_plan(actor):
        raise Forbidden("只有自然资源局或发改局可以导入规划数据。")
    if not files:
        raise Invalid("请至少提供一个规划图层文件。", code="plan_files_missing")
    reads = []
    for spec in files:
        try:
            read = read_vector_file(spec.path, layer=spec.layer)
        except PlanFileError as error:
            raise _file_error(spec.display_name, error) from error
        kind = (
            spec.kind
            or read.kind
            or detect_layer_kind(spec.display_name)
            or detect_layer_kind(list(read.frame.columns))
        )
        if kind not in ("farmland", "redline", "urban_boundary", "landuse"):
            raise Invalid(
                f"{spec.display_name}：无法判断图层类型，请指定 farmland（YJJBNTBHTB）、redline（STBHHX）、"
                "urban_boundary（CZKFBJ）或 landuse。",
                code="plan_layer_unknown",
                extra={"file": spec.display_name},
            )
        reads.append((spec, read, kind))
    report: dict[str, Any] = {"files": [], "features": 0, "repaired": 0, "skipped_non_polygon": 0}
    with unit_of_work(session):
        edition = land_repo.add_edition(
            session, PlanEdition(name=name, description=description, created_by_id=actor.id, report={})
        )
        for done, (spec, read, kind) in enumerate(reads, start=1):
            rows = []
            skipped = 0
            for index, row in read.frame.iterrows():
                geom = _polygonal(row.geometry) if row.geometry is not None else None
                if geom is None or geom.is_empty:
                    skipped += 1
                    continue
                attrs = {str(k): _jsonable(v) for k, v in row.items() if k != "geometry"}
                rows.append(
                    {
                        "edition_id": edition.id,
                        "layer": kind,
                        "class_code": _field(attrs, _CLASS_CODE_FIELDS) if kind == "landuse" else None,
                        "class_name": _field(attrs, _CLASS_NAME_FIELDS) if kind == "landuse" else None,
                        "source_file": spec.display_name[:300],
                        "source_index": int(index),
                        "repaired": False,
                        "attributes": attrs,
                        "wkb": shapely.to_wkb(geom),
                    }
                )
            land_repo.add_plan_features(session, rows)
            report["files"].append(
                {
                    "file": spec.display_name,
                    "layer": kind,
                    "features": len(rows),
                    "repaired": read.repaired,
                    "dropped_empty": read.dropped_empty,
                    "skipped_non_polygon": skipped,
                    "source_epsg": read.source_epsg,
                    "source_crs": read.source_crs_name,
                    "warnings": _issue_dicts(read.issues),
                }
            )
            report["features"] += len(rows)
            report["repaired"] += read.repaired
            report["skipped_non_polygon"] += skipped
            if progress is not None:
                progress(done, len(reads))
        report["pieces"] = land_repo.build_pieces(session, edition.id)
        report["layers"] = plan_index_cache.edition_counts(session, edition)
        open_parcels = land_repo.list_parcels(session, statuses=land_repo.OPEN_STATUSES)
        checks = _check_in_tx(session, open_parcels, edition, rules)
        report["rechecked_parcels"] = len(checks)
        edition.report = report
        session.flush()
        audit.record(session, actor, "import", "plan_edition", edition.id, after=report)
    session.refresh(edition)
    return _edition_read(edition)


# --- parcels -------------------------------------------------------------------------------------


def _parcel_read(parcel: LandParcel, check: LandCheck | None, overlaps: list[LandCheckOverlap]) -> ParcelRead:
    check_read = None
    if check is not None:
        check_read = CheckRead(
            id=check.id,
            edition_id=check.edition_id,
            checked_at=check.checked_at,
            verdict=check.verdict,
            sliver_m2=check.sliver_m2,
            reasons=check.reasons,
            summary=check.summary,
            overlaps=[
                OverlapRead(
                    target=o.target,
                    target_ref=o.target_ref,
                    area_m2=o.area_m2,
                    area_mu=crs.m2_to_mu(o.area_m2),
                    share=o.share,
                    is_sliver=o.is_sliver,
                )
                for o in overlaps
            ],
        )
    return ParcelRead(
        id=parcel.id,
        project_id=parcel.project_id,
        project_code=parcel.project.code,
        project_name=parcel.project.name,
        year=parcel.year,
        parcel_code=parcel.parcel_code,
        name=parcel.name,
        land_class=parcel.land_class,
        land_use=parcel.land_use,
        construction_land=parcel.construction_land,
        status=parcel.status,
        batch_id=parcel.batch_id,
        batch_name=parcel.batch.name if parcel.batch else None,
        zone=parcel.zone,
        area_m2=parcel.area_m2,
        area_mu=crs.m2_to_mu(parcel.area_m2),
        area_ha=crs.m2_to_hectares(parcel.area_m2),
        ellipsoidal_area_m2=parcel.ellipsoidal_area_m2,
        declared_area_ha=parcel.declared_area_ha,
        source=parcel.source,
        submitted_at=parcel.submitted_at,
        submitted_late=parcel.submitted_late,
        deadline=parcel.deadline,
        check=check_read,
        geometry=dict(mapping(to_shape(parcel.geom))),
    )


def _reads(session: Session, parcels: Sequence[LandParcel]) -> list[ParcelRead]:
    checks = land_repo.latest_checks(session, [p.id for p in parcels])
    overlaps = land_repo.overlaps_of_checks(session, [c.id for c in checks.values()])
    return [
        _parcel_read(p, checks.get(p.id), overlaps[checks[p.id].id] if p.id in checks else [])
        for p in parcels
    ]


def _visible_parcel(session: Session, actor: User, parcel_id: int) -> LandParcel:
    parcel = land_repo.get_parcel(session, parcel_id)
    if parcel is None:
        raise NotFound(f"地块 {parcel_id} 不存在。", code="parcel_not_found")
    if not can_read_project(actor, parcel.project):
        raise Forbidden("无权查看该地块。")
    return parcel


def get_parcel(session: Session, actor: User, parcel_id: int) -> ParcelRead:
    """One parcel with its latest check."""
    return _reads(session, [_visible_parcel(session, actor, parcel_id)])[0]


def _visible_project_ids(session: Session, actor: User) -> list[int] | None:
    """Ids of the projects whose parcels the actor may see; None for all of them."""
    scope = project_scope(actor)
    if scope.all:
        return None
    items, _ = projects_repo.list_projects(session, scope=scope, filters=projects_repo.ProjectFilter())
    return [p.id for p in items]


def list_parcels(
    session: Session, actor: User, *, year: int | None = None, project_id: int | None = None
) -> list[ParcelRead]:
    """Parcels the actor may see, by year and/or project."""
    parcels = land_repo.list_parcels(
        session, year=year, project_id=project_id, project_ids=_visible_project_ids(session, actor)
    )
    return _reads(session, parcels)


def verdict_styles() -> list[dict[str, str]]:
    """Each verdict's label and colour, as the maps draw them (pages take them from here)."""
    return [
        {"code": code, "label": label, "color": color}
        for code, (label, color) in style.VERDICT_STYLES.items()
    ]


def parcel_years(session: Session, actor: User) -> list[dict[str, int]]:
    """The years that have parcels the actor may see, newest first, with how many."""
    rows = land_repo.parcel_years(session, project_ids=_visible_project_ids(session, actor))
    return [{"year": year, "parcels": count} for year, count in rows]


@dataclass(slots=True)
class _NewParcel:
    code: str
    name: str
    land_class: str | None
    land_use: str | None
    zone: int
    geometry: MultiPolygon  # storage CRS
    ellipsoidal_m2: float
    declared_ha: float | None


def _parcels_from_txt(data: bytes, filename: str) -> tuple[list[_NewParcel], list[dict[str, Any]]]:
    try:
        parsed = read_boundary_txt(data, source=filename)
    except BoundaryTxtError as error:
        raise _file_error(filename, error) from error
    warnings = _issue_dicts(parsed.warnings)
    out = []
    for parcel in parsed.parcels:
        warnings += _issue_dicts(parcel.warnings)
        geom = _polygonal(parcel.to_storage())
        if geom is None:
            raise Invalid(f"{filename} 第 {parcel.line} 行地块不是面。", code="parcel_not_polygon")
        out.append(
            _NewParcel(
                parcel.parcel_id or f"{parcel.index + 1}",
                parcel.name or parcel.parcel_id,
                parcel.land_class or None,
                parcel.use or None,
                parcel.zone,
                geom,
                parcel.ellipsoidal_area_m2,
                parcel.declared_area_ha,
            )
        )
    return out, warnings


def _parcels_from_vector(data: bytes, filename: str) -> tuple[list[_NewParcel], list[dict[str, Any]]]:
    suffix = Path(filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="sw-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            read = read_vector_file(path)
        except PlanFileError as error:
            raise _file_error(filename, error) from error
    out = []
    for index, row in read.frame.iterrows():
        geom = _polygonal(row.geometry)
        if geom is None:
            raise Invalid(
                f"{filename} 第 {int(index) + 1} 个要素不是面。",
                code="parcel_not_polygon",
                extra={"feature_index": int(index)},
            )
        attrs = {str(k): v for k, v in row.items() if k != "geometry"}
        code = _field(attrs, _CODE_FIELDS) or f"{Path(filename).stem}-{int(index) + 1}"
        out.append(
            _NewParcel(
                code,
                _field(attrs, _NAME_FIELDS) or code,
                _field(attrs, _CLASS_CODE_FIELDS),
                _field(attrs, ("DKYT", "YT", "LAND_USE")),
                crs.gk3_zone_for_longitude(geom.centroid.x),
                geom,
                crs.ellipsoidal_area_m2(geom),
                None,
            )
        )
    return out, _issue_dicts(read.issues)


def import_parcels(
    session: Session,
    actor: User,
    *,
    project_id: int,
    year: int,
    filename: str,
    data: bytes,
    construction_land: str = "new",
    rules: LandCheckRules = DEFAULT_RULES,
) -> ParcelImportRead:
    """Add a project's land-demand parcels from a boundary TXT, GeoJSON, GeoPackage or zipped Shapefile."""
    if construction_land not in ("stock", "new"):
        raise Invalid(
            "construction_land 应为 stock（存量建设用地）或 new（新增建设用地）。", code="validation_error"
        )
    if not 2000 <= year <= 2100:
        raise Invalid(f"年度 {year} 超出范围。", code="date_out_of_range")
    if not data:
        raise Invalid(f"{filename} 是空文件。", code="empty_file")
    suffix = Path(filename).suffix.lower()
    if suffix == ".txt":
        new, warnings = _parcels_from_txt(data, filename)
    elif suffix in (".geojson", ".json", ".gpkg", ".zip"):
        new, warnings = _parcels_from_vector(data, filename)
    else:
        raise Invalid(
            f"{filename}：不支持的文件类型，请上传界址点 TXT、GeoJSON、GeoPackage 或 zip 压缩的 Shapefile。",
            code="unsupported_file_type",
        )
    with unit_of_work(session):
        project = projects_repo.get_project(session, project_id)
        if project is None:
            raise NotFound(f"项目 {project_id} 不存在。", code="project_not_found")
        if not can_read_project(actor, project) or not can_submit_parcels(actor, project):
            raise Forbidden("无权为该项目填报用地需求。")
        created = []
        for item in new:
            area_geom = crs.to_area_crs(item.geometry)
            parcel = land_repo.add_parcel(
                session,
                LandParcel(
                    project_id=project.id,
                    year=year,
                    parcel_code=item.code[:60],
                    name=item.name[:200],
                    land_class=item.land_class,
                    land_use=item.land_use,
                    construction_land=construction_land,
                    status="draft",
                    zone=item.zone,
                    geom=from_shape(item.geometry, srid=crs.STORAGE_SRID),
                    geom_area=from_shape(_polygonal(area_geom), srid=crs.AREA_SRID),
                    area_m2=float(area_geom.area),
                    ellipsoidal_area_m2=item.ellipsoidal_m2,
                    declared_area_ha=item.declared_ha,
                    source=suffix.lstrip("."),
                    deadline=demand_deadline(year),
                    created_by_id=actor.id,
                ),
            )
            audit.record(
                session,
                actor,
                "create",
                "land_parcel",
                parcel.id,
                after={
                    "parcel_code": parcel.parcel_code,
                    "year": year,
                    "project_id": project.id,
                    "area_m2": parcel.area_m2,
                },
            )
            created.append(parcel)
        edition = land_repo.latest_edition(session)
        if edition is not None:
            _check_in_tx(session, created, edition, rules)
    return ParcelImportRead(created=_reads(session, created), warnings=warnings)


# --- checks --------------------------------------------------------------------------------------


def layer_overlaps(
    session: Session,
    edition: PlanEdition,
    parcel_ids: Sequence[int],
    *,
    area_geometries: Sequence[BaseGeometry] | None = None,
) -> list[land_repo.LayerOverlap]:
    """Overlap areas (m2, area CRS) of parcels with each layer and land-use class of an edition.

    The overlay step of every check.  It runs in memory on the edition's cached piece index (the same
    GEOS overlay as PostGIS on the same coordinates), or in SQL when the edition is too big to cache.
    ``area_geometries`` (the parcels' ``geom_area``, in the order of ``parcel_ids``) saves reading them.
    """
    ids = list(parcel_ids)
    if not ids:
        return []
    index = plan_index_cache.edition_index(session, edition)
    if index is None:
        return land_repo.plan_overlaps(session, ids, edition.id)
    if area_geometries is None:
        wkbs = land_repo.parcel_area_wkbs(session, ids)
        ids = [pid for pid in ids if pid in wkbs]
        geoms = list(shapely.from_wkb([wkbs[pid] for pid in ids]))
    else:
        geoms = list(area_geometries)
    return [
        land_repo.LayerOverlap(ids[row.index], row.layer, row.class_code, row.area_m2)
        for row in index.overlaps(geoms)
    ]


#: Parcels checked together (one overlay call shared over the cores, bulk queries and writes); small
#: chunks leave the cores idle while the slowest parcel of each chunk finishes.
CHECK_CHUNK = 250


def _check_in_tx(
    session: Session,
    parcels: Sequence[LandParcel],
    edition: PlanEdition,
    rules: LandCheckRules,
    progress: Progress = None,
    chunk: int | None = None,
) -> list[LandCheck]:
    """Check parcels against an edition and the other parcels; store and return the checks."""
    parcels = list({p.id: p for p in parcels}.values())  # one check per parcel
    if not parcels:
        return []
    chunk = chunk or CHECK_CHUNK
    layers_present = set(plan_index_cache.edition_counts(session, edition))
    index = plan_index_cache.edition_index(session, edition)
    checks: list[LandCheck] = []
    for start in range(0, len(parcels), chunk):
        batch = parcels[start : start + chunk]
        ids = [p.id for p in batch]
        area_geoms = {p.id: to_shape(p.geom_area) for p in batch}
        layer_rows = layer_overlaps(session, edition, ids, area_geometries=[area_geoms[i] for i in ids])
        others = land_repo.parcel_overlaps(session, ids)
        outside = land_repo.area_outside_county(session, ids)
        by_parcel: dict[int, ParcelFacts] = {
            p.id: ParcelFacts(area_m2=p.area_m2, land_class=p.land_class, layers_present=layers_present)
            for p in batch
        }
        for row in layer_rows:
            facts = by_parcel[row.parcel_id]
            facts.layer_m2[row.layer] = facts.layer_m2.get(row.layer, 0.0) + row.area_m2
            if row.layer == "landuse":
                key = row.class_code or "未分类"
                facts.class_m2[key] = facts.class_m2.get(key, 0.0) + row.area_m2
        for other in others:
            label = f"{other.other_code}（{other.other_project_code}）"
            by_parcel[other.parcel_id].other_parcels_m2[label] = other.area_m2
        stored: list[tuple[LandCheck, list[LandCheckOverlap]]] = []
        for parcel in batch:
            facts = by_parcel[parcel.id]
            facts.outside_county_m2 = outside.get(parcel.id, 0.0)
            verdict, reasons, slivers = judge(facts, rules)

            geometry = partial(_overlap_geometry, session, edition, index, parcel.id, area_geoms[parcel.id])
            overlaps = _overlap_rows(parcel, facts, rules, reasons, geometry)
            summary = {
                "edition": edition.name,
                "layers": {k: round(v, 4) for k, v in facts.layer_m2.items()},
                "classes": {k: round(v, 4) for k, v in facts.class_m2.items()},
                "outside_county_m2": round(facts.outside_county_m2, 4),
                "slivers": slivers,
            }
            check = LandCheck(
                parcel_id=parcel.id,
                edition_id=edition.id,
                sliver_m2=rules.sliver_m2,
                verdict=verdict.value,
                reasons=[r.as_dict() for r in reasons],
                summary=summary,
                is_latest=True,
            )
            stored.append((check, overlaps))
            checks.append(check)
        land_repo.save_checks(session, stored)
        if progress is not None:
            progress(min(start + chunk, len(parcels)), len(parcels))
    return checks


def _overlap_geometry(
    session: Session,
    edition: PlanEdition,
    index: PlanIndex | None,
    parcel_id: int,
    area_geom: BaseGeometry,
    layer: str,
) -> BaseGeometry | None:
    """The part of a parcel inside a plan layer, in the storage CRS (for the map of a blocked parcel)."""
    if index is None:
        geojson = land_repo.overlap_geometry_geojson(session, parcel_id, edition.id, layer)
        return shapely.from_geojson(geojson) if geojson else None
    piece = index.overlap_geometry(area_geom, layer)
    return crs.reproject(piece, crs.AREA_SRID, crs.STORAGE_SRID) if piece is not None else None


def _overlap_rows(
    parcel: LandParcel,
    facts: ParcelFacts,
    rules: LandCheckRules,
    reasons: Sequence[Any],
    overlap_geometry: Callable[[str], BaseGeometry | None],
) -> list[LandCheckOverlap]:
    blocking = {
        r.code.removesuffix("_overlap") for r in reasons if r.code in ("farmland_overlap", "redline_overlap")
    }
    rows = []

    def add(target: str, ref: str, m2: float, geometry: BaseGeometry | None = None) -> None:
        geom = None
        if geometry is not None and not geometry.is_empty:
            geom = from_shape(geometry, srid=crs.STORAGE_SRID)
        rows.append(
            LandCheckOverlap(
                target=target,
                target_ref=ref,
                area_m2=m2,
                share=m2 / parcel.area_m2 if parcel.area_m2 else 0.0,
                is_sliver=0 < m2 < rules.sliver_m2,
                geom=geom,
            )
        )

    for layer, m2 in sorted(facts.layer_m2.items()):
        if layer == "landuse" or m2 <= 0:
            continue
        add("layer", layer, m2, overlap_geometry(layer) if layer in blocking else None)
    for code, m2 in sorted(facts.class_m2.items()):
        add("landuse_class", code, m2)
    for ref, m2 in sorted(facts.other_parcels_m2.items()):
        add("parcel", ref, m2)
    if "urban_boundary" in facts.layers_present:
        outside = max(parcel.area_m2 - facts.layer_m2.get("urban_boundary", 0.0), 0.0)
        if outside > 0:
            add("outside", "urban_boundary", outside)
    if facts.outside_county_m2 > 0:
        add("outside", "county", facts.outside_county_m2)
    return rows


def check_parcels(
    session: Session,
    actor: User,
    *,
    parcel_ids: Sequence[int] | None = None,
    year: int | None = None,
    rules: LandCheckRules = DEFAULT_RULES,
    progress: Progress = None,
) -> list[ParcelRead]:
    """Check parcels (by id, or a year's whole list) against the newest plan edition."""
    if not can_manage_plan(actor):
        raise Forbidden("只有自然资源局或发改局可以发起用地核查。")
    if parcel_ids is None and year is None:
        raise Invalid("请指定地块 parcel_ids 或年度 year。", code="validation_error")
    with unit_of_work(session):
        edition = land_repo.latest_edition(session)
        if edition is None:
            raise Invalid(
                "尚未导入规划数据（永久基本农田、生态保护红线、城镇开发边界），无法核查。",
                code="no_plan_edition",
            )
        if parcel_ids is not None:
            parcels = [land_repo.get_parcel(session, pid) for pid in parcel_ids]
            missing = [pid for pid, p in zip(parcel_ids, parcels, strict=True) if p is None]
            if missing:
                raise NotFound(f"地块 {missing} 不存在。", code="parcel_not_found")
            found = [p for p in parcels if p is not None]
        else:
            found = land_repo.list_parcels(session, year=year)
        _check_in_tx(session, found, edition, rules, progress)
    return _reads(session, found)


# --- the annual cycle ----------------------------------------------------------------------------


def submit_parcels(
    session: Session, actor: User, parcel_ids: Sequence[int], *, now: dt.datetime | None = None
) -> list[ParcelRead]:
    """Submit draft parcels to the land bureau; after 31 October of the year before they are flagged late."""
    now = now or dt.datetime.now(dt.UTC)
    with unit_of_work(session):
        parcels = [_visible_parcel(session, actor, pid) for pid in parcel_ids]
        for parcel in parcels:
            if not can_submit_parcels(actor, parcel.project):
                raise Forbidden("无权报送该地块。")
            if parcel.status != "draft":
                raise Invalid(
                    f"地块 {parcel.parcel_code} 已报送（状态 {parcel.status}）。", code="parcel_not_draft"
                )
            before = {"status": parcel.status}
            parcel.status = "submitted"
            parcel.submitted_at = now
            parcel.submitted_late = now.date() > demand_deadline(parcel.year)
            audit.record(
                session,
                actor,
                "submit",
                "land_parcel",
                parcel.id,
                before=before,
                after={"status": "submitted", "late": parcel.submitted_late},
            )
        session.flush()
    return _reads(session, parcels)


def create_batch(
    session: Session, actor: User, *, year: int, parcel_ids: Sequence[int], name: str | None = None
) -> BatchRead:
    """Put submitted parcels into the year's next approval batch (blocked parcels cannot go)."""
    if not can_manage_plan(actor):
        raise Forbidden("只有自然资源局或发改局可以组织用地报批批次。")
    with unit_of_work(session):
        number = land_repo.next_batch_number(session, year)
        batch = land_repo.add_batch(
            session, ApprovalBatch(year=year, number=number, name=name or f"{year}年度第{number}批次")
        )
        checks = land_repo.latest_checks(session, list(parcel_ids))
        for pid in parcel_ids:
            parcel = _visible_parcel(session, actor, pid)
            if parcel.year != year:
                raise Invalid(
                    f"地块 {parcel.parcel_code} 属于 {parcel.year} 年度。", code="parcel_wrong_year"
                )
            if parcel.status != "submitted":
                raise Invalid(
                    f"地块 {parcel.parcel_code} 尚未报送或已在批次中（状态 {parcel.status}）。",
                    code="parcel_not_submitted",
                )
            check = checks.get(pid)
            if check is not None and check.verdict == "blocked":
                raise Invalid(
                    f"地块 {parcel.parcel_code} 占用永久基本农田或生态保护红线，不能组批报批。",
                    code="parcel_blocked",
                )
            parcel.status = "in_batch"
            parcel.batch_id = batch.id
        session.flush()
        audit.record(
            session,
            actor,
            "create",
            "approval_batch",
            batch.id,
            after={"year": year, "number": number, "parcel_ids": list(parcel_ids)},
        )
    return BatchRead(
        id=batch.id, year=batch.year, number=batch.number, name=batch.name, parcel_ids=list(parcel_ids)
    )


def approve_batch(session: Session, actor: User, batch_id: int) -> BatchRead:
    """Record that a batch was approved: its parcels become approved."""
    if not can_manage_plan(actor):
        raise Forbidden("只有自然资源局或发改局可以登记批复。")
    with unit_of_work(session):
        batch = land_repo.get_batch(session, batch_id)
        if batch is None:
            raise NotFound(f"批次 {batch_id} 不存在。", code="batch_not_found")
        parcels = [p for p in land_repo.list_parcels(session, year=batch.year) if p.batch_id == batch.id]
        for parcel in parcels:
            parcel.status = "approved"
        session.flush()
        audit.record(
            session, actor, "approve", "approval_batch", batch.id, after={"parcels": [p.id for p in parcels]}
        )
    return BatchRead(
        id=batch.id, year=batch.year, number=batch.number, name=batch.name, parcel_ids=[p.id for p in parcels]
    )


# --- output --------------------------------------------------------------------------------------


def export_parcels_txt(session: Session, actor: User, *, year: int, project_id: int | None = None) -> bytes:
    """The year's parcels as a boundary-point TXT the bureau can submit (GBK, CRLF)."""
    parcels = [p for p in list_parcels(session, actor, year=year, project_id=project_id)]
    if not parcels:
        raise NotFound(f"{year} 年度没有可导出的地块。", code="no_parcels")
    items = [
        ParcelForExport(
            parcel_id=p.parcel_code,
            name=p.name,
            geometry_lonlat=shapely.geometry.shape(p.geometry),
            use=p.land_use or "",
            land_class=p.land_class or "",
        )
        for p in parcels
    ]
    return write_boundary_txt(items)


def parcels_geojson(
    session: Session, actor: User, *, year: int | None = None, project_id: int | None = None
) -> dict[str, Any]:
    """Parcels with their verdicts as a FeatureCollection (CGCS2000 lon/lat)."""
    features = []
    for p in list_parcels(session, actor, year=year, project_id=project_id):
        props = p.model_dump(mode="json", exclude={"geometry", "check"})
        props["verdict"] = p.check.verdict if p.check else None
        props["reasons"] = [r["message"] for r in p.check.reasons] if p.check else []
        features.append({"type": "Feature", "id": p.id, "geometry": p.geometry, "properties": props})
    return {"type": "FeatureCollection", "features": features}


def export_parcels(
    session: Session, actor: User, *, year: int, project_id: int | None = None, fmt: str = "geojson"
) -> tuple[bytes, str, str]:
    """The year's parcels in an exchange format: (bytes, media type, file suffix)."""
    if fmt == "txt":
        return (
            export_parcels_txt(session, actor, year=year, project_id=project_id),
            "text/plain; charset=gbk",
            "txt",
        )
    collection = parcels_geojson(session, actor, year=year, project_id=project_id)
    if not collection["features"]:
        raise NotFound(f"{year} 年度没有可导出的地块。", code="no_parcels")
    if fmt == "gpkg":
        return (
            to_geopackage(collection["features"], layer=f"parcels_{year}"),
            "application/geopackage+sqlite3",
            "gpkg",
        )
    if fmt == "shp":
        return to_zipped_shapefile(collection["features"], name=f"parcels_{year}"), "application/zip", "zip"
    return json.dumps(collection, ensure_ascii=False).encode("utf-8"), "application/geo+json", "geojson"


def year_report(session: Session, actor: User, *, year: int) -> tuple[bytes, dict[str, Any]]:
    """The year's check results: an .xlsx workbook and a GeoJSON of the overlap pieces."""
    if not project_scope(actor).all:
        raise Forbidden("无权查看全县用地核查报告。")
    parcels = list_parcels(session, actor, year=year)
    rows, overlap_rows, pieces = [], [], []
    editions = {e.id: e.name for e in land_repo.list_editions(session)}
    for p in parcels:
        check = p.check
        layer = defaultdict(float)
        parcel_m2 = 0.0
        if check:
            for o in check.overlaps:
                if o.target == "layer":
                    layer[o.target_ref] += o.area_m2
                if o.target == "outside" and o.target_ref == "urban_boundary":
                    layer["outside_urban"] += o.area_m2
                if o.target == "parcel":
                    parcel_m2 += o.area_m2
                overlap_rows.append(
                    {
                        "parcel_code": p.parcel_code,
                        "target": o.target,
                        "target_ref": o.target_ref,
                        "area_m2": round(o.area_m2, 2),
                        "area_mu": round(o.area_mu, 4),
                        "share": round(o.share, 4),
                        "is_sliver": o.is_sliver,
                    }
                )
        rows.append(
            {
                "project_code": p.project_code,
                "project_name": p.project_name,
                "parcel_code": p.parcel_code,
                "parcel_name": p.name,
                "status": p.status,
                "area_m2": round(p.area_m2, 2),
                "ellipsoidal_area_m2": round(p.ellipsoidal_area_m2, 2),
                "area_mu": round(p.area_mu, 4),
                "area_ha": round(p.area_ha, 4),
                "farmland_m2": round(layer["farmland"], 2),
                "redline_m2": round(layer["redline"], 2),
                "outside_urban_m2": round(layer["outside_urban"], 2),
                "parcel_overlap_m2": round(parcel_m2, 2),
                "verdict": check.verdict if check else "未核查",
                "reasons": "；".join(r["message"] for r in check.reasons) if check else "",
                "edition": editions.get(check.edition_id, "") if check and check.edition_id else "",
                "checked_at": check.checked_at.strftime("%Y-%m-%d %H:%M") if check else "",
            }
        )
    for geometry_row in land_repo.overlap_pieces_geojson(session, [p.id for p in parcels]):
        pieces.append(
            {
                "type": "Feature",
                "geometry": json.loads(geometry_row["geojson"]),
                "properties": {k: v for k, v in geometry_row.items() if k != "geojson"},
            }
        )
    workbook = land_check_workbook(rows, overlap_rows, title=f"{year}年度用地需求核查报告")
    return workbook, {"type": "FeatureCollection", "features": pieces}
