"""Land: plan editions, land-demand parcels, conflict checks, approval batches, TXT and reports."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response

from server.api.deps import CurrentUser, SessionDep, SettingsDep
from server.errors import Invalid
from server.land_rules import LandCheckRules
from server.schemas.land import (
    BatchCreate,
    BatchRead,
    CheckRequest,
    EditionRead,
    ParcelImportRead,
    ParcelRead,
    SubmitRequest,
    YearRead,
)
from server.services import land as land_service

router = APIRouter(prefix="/land", tags=["land"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe_name(name: str | None, fallback: str) -> str:
    """The base name of an uploaded file (never a path)."""
    base = PurePath((name or "").replace("\\", "/")).name
    return base or fallback


def _rules(settings, sliver_m2: float | None = None) -> LandCheckRules:
    return LandCheckRules(sliver_m2=settings.land_sliver_m2 if sliver_m2 is None else sliver_m2)


@router.get("/editions", response_model=list[EditionRead])
def list_editions(user: CurrentUser, session: SessionDep) -> list[EditionRead]:
    """Plan editions, newest first."""
    return land_service.list_editions(session, user)


@router.post("/editions", response_model=EditionRead, status_code=status.HTTP_201_CREATED)
async def import_edition(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
    files: Annotated[
        list[UploadFile], File(description="GeoJSON, GeoPackage or zipped Shapefile, one per layer")
    ],
    kinds: Annotated[
        list[str] | None, Form(description="farmland/redline/urban_boundary/landuse per file")
    ] = None,
    description: Annotated[str, Form(max_length=2000)] = "",
) -> EditionRead:
    """Import a plan delivery as a new edition (all or nothing); open parcels are re-checked."""
    if kinds and len(kinds) != len(files):
        raise Invalid("kinds 的个数应与文件个数相同。", code="validation_error")
    with tempfile.TemporaryDirectory(prefix="sw-plan-") as tmp:
        specs = []
        for index, upload in enumerate(files):
            display = _safe_name(upload.filename, f"layer{index + 1}")
            path = Path(tmp) / f"{index}_{display}"
            with path.open("wb") as out:
                while chunk := await upload.read(1 << 20):
                    out.write(chunk)
            specs.append(
                land_service.PlanFileSpec(
                    path=path, display_name=display, kind=kinds[index] if kinds else None
                )
            )
        return land_service.import_plan_edition(
            session, user, name=name, files=specs, description=description, rules=_rules(settings)
        )


@router.get("/parcels", response_model=list[ParcelRead])
def list_parcels(
    user: CurrentUser,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    project_id: int | None = None,
) -> list[ParcelRead]:
    """Land-demand parcels the user may see, with their latest check."""
    return land_service.list_parcels(session, user, year=year, project_id=project_id)


@router.get("/verdicts")
def verdict_styles(user: CurrentUser) -> list[dict[str, str]]:
    """The verdicts a check gives, with the label and colour every page and map shows them in."""
    return land_service.verdict_styles()


@router.get("/years", response_model=list[YearRead])
def parcel_years(user: CurrentUser, session: SessionDep) -> list[dict[str, int]]:
    """Years with land-demand parcels the user may see, newest first, with their counts."""
    return land_service.parcel_years(session, user)


@router.get("/parcels/geojson", response_class=JSONResponse)
def parcels_geojson(
    user: CurrentUser,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    project_id: int | None = None,
) -> JSONResponse:
    """Parcels with their verdicts as GeoJSON (CGCS2000 lon/lat)."""
    collection = land_service.parcels_geojson(session, user, year=year, project_id=project_id)
    return JSONResponse(collection, media_type="application/geo+json")


@router.post("/parcels/import", response_model=ParcelImportRead, status_code=status.HTTP_201_CREATED)
async def import_parcels(
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    project_id: Annotated[int, Form()],
    year: Annotated[int, Form(ge=2000, le=2100)],
    file: Annotated[
        UploadFile, File(description="boundary-point TXT, GeoJSON, GeoPackage or zipped Shapefile")
    ],
    construction_land: Annotated[str, Form(pattern="^(stock|new)$")] = "new",
) -> ParcelImportRead:
    """Add a project's parcels from a file; each is checked at once when a plan edition exists."""
    data = await file.read()
    return land_service.import_parcels(
        session,
        user,
        project_id=project_id,
        year=year,
        filename=_safe_name(file.filename, "parcels.txt"),
        data=data,
        construction_land=construction_land,
        rules=_rules(settings),
    )


@router.get("/parcels/export")
def export_parcels(
    user: CurrentUser,
    session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    format: Annotated[str, Query(pattern="^(geojson|gpkg|shp|txt)$")] = "geojson",
    project_id: int | None = None,
) -> Response:
    """The year's parcels as GeoJSON, GeoPackage, zipped Shapefile (GBK) or boundary-point TXT."""
    data, media, suffix = land_service.export_parcels(
        session, user, year=year, project_id=project_id, fmt=format
    )
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="parcels_{year}.{suffix}"'},
    )


@router.get("/parcels/{parcel_id}", response_model=ParcelRead)
def get_parcel(parcel_id: int, user: CurrentUser, session: SessionDep) -> ParcelRead:
    """One parcel with its latest check."""
    return land_service.get_parcel(session, user, parcel_id)


@router.post("/parcels/submit", response_model=list[ParcelRead])
def submit_parcels(body: SubmitRequest, user: CurrentUser, session: SessionDep) -> list[ParcelRead]:
    """Submit draft parcels to the land bureau (late after 31 October of the year before)."""
    return land_service.submit_parcels(session, user, body.parcel_ids)


@router.post("/checks", response_model=list[ParcelRead])
def run_checks(
    body: CheckRequest, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> list[ParcelRead]:
    """Check parcels (by id or a whole year) against the newest plan edition."""
    return land_service.check_parcels(
        session, user, parcel_ids=body.parcel_ids, year=body.year, rules=_rules(settings, body.sliver_m2)
    )


@router.post("/batches", response_model=BatchRead, status_code=status.HTTP_201_CREATED)
def create_batch(body: BatchCreate, user: CurrentUser, session: SessionDep) -> BatchRead:
    """Put submitted parcels into the year's next approval batch."""
    return land_service.create_batch(
        session, user, year=body.year, parcel_ids=body.parcel_ids, name=body.name
    )


@router.post("/batches/{batch_id}/approve", response_model=BatchRead)
def approve_batch(batch_id: int, user: CurrentUser, session: SessionDep) -> BatchRead:
    """Record a batch's approval."""
    return land_service.approve_batch(session, user, batch_id)


@router.get("/export.txt")
def export_txt(
    user: CurrentUser,
    session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    project_id: int | None = None,
) -> Response:
    """The year's parcels as a boundary-point TXT (GBK, CRLF) the bureau can submit."""
    data = land_service.export_parcels_txt(session, user, year=year, project_id=project_id)
    return Response(
        data,
        media_type="text/plain; charset=gbk",
        headers={"Content-Disposition": f'attachment; filename="parcels_{year}.txt"'},
    )


@router.get("/report.xlsx")
def report_xlsx(
    user: CurrentUser, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> Response:
    """The year's check report as an Excel workbook with Chinese headers."""
    workbook, _ = land_service.year_report(session, user, year=year)
    return Response(
        workbook,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="land_check_{year}.xlsx"'},
    )


@router.get("/report.geojson", response_class=JSONResponse)
def report_geojson(
    user: CurrentUser, session: SessionDep, year: Annotated[int, Query(ge=2000, le=2100)]
) -> JSONResponse:
    """The overlap pieces (farmland, red line) of the year's latest checks as GeoJSON."""
    _, pieces = land_service.year_report(session, user, year=year)
    return JSONResponse(pieces, media_type="application/geo+json")
