"""The demo county's land data, loaded through the land bureau's own use cases (idempotent).

An illustrative plan edition (``gis_data.demo_land``, written to a GeoPackage and imported with
``land.import_plan_edition``), next year's land-demand parcels of about forty projects (imported as
GeoJSON by the unit that may submit them, else by the land bureau), every parcel checked, most
submitted (a few after the 31 October deadline) and the first approval batch.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from gis_data import demo_land as land_data
from server.models import Project, User
from server.permissions import can_read_project, can_submit_parcels
from server.repositories import projects as projects_repo
from server.repositories import units as units_repo
from server.services import land as land_service

LAND_USERNAME = "land"
#: Demo accounts that submit their own projects' land demand (others go through the land bureau).
SUBMITTING_USERNAMES = ("unit", "township")
#: Parcels of the first approval batch.
BATCH_SIZE = 6


def _submitter(session: Session, project: Project, land_user: User) -> User:
    for username in SUBMITTING_USERNAMES:
        user = units_repo.user_by_username(session, username)
        if user is not None and can_read_project(user, project) and can_submit_parcels(user, project):
            return user
    return land_user


def load_demo_land(session: Session) -> dict[str, int]:
    """Import the demand parcels and the illustrative plan edition if missing; returns what was added.

    Parcels come first: importing the edition then checks every open parcel in one go (the product's
    own re-check).  When the edition was already there, the new parcels are checked explicitly.
    """
    added = {"editions": 0, "parcels": 0, "submitted": 0, "batches": 0}
    land_user = units_repo.user_by_username(session, LAND_USERNAME)
    if land_user is None:
        return added
    data = land_data.demo_land()
    existing = {
        (p.project_code, p.parcel_code) for p in land_service.list_parcels(session, land_user, year=data.year)
    }
    created: list[tuple[User, int]] = []
    for code in data.project_codes():
        project = projects_repo.project_by_code(session, code)
        if project is None:
            continue
        parcels = [p for p in data.parcels_of(code) if (code, p.parcel_code) not in existing]
        if not parcels:
            continue
        actor = _submitter(session, project, land_user)
        result = land_service.import_parcels(
            session,
            actor,
            project_id=project.id,
            year=data.year,
            filename=f"{project.name}用地需求.geojson",
            data=land_data.parcels_geojson(parcels),
            construction_land="stock" if "改造" in project.name else "new",
        )
        created += [(actor, p.id) for p in result.created]
    added["parcels"] = len(created)
    new_ids = [pid for _, pid in created]
    if not any(e.name == data.name for e in land_service.list_editions(session, land_user)):
        with tempfile.TemporaryDirectory(prefix="sitewatch-demo-plan-") as tmp:
            path = Path(tmp) / "qingshui_sanqusanxian_demo.gpkg"
            layers = land_data.write_plan_geopackage(data, path)
            specs = [
                land_service.PlanFileSpec(
                    path=path, display_name=f"{path.name}（{layer}）", kind=kind, layer=layer
                )
                for layer, kind in layers
            ]
            land_service.import_plan_edition(
                session, land_user, name=data.name, files=specs, description=data.description
            )
        added["editions"] = 1
    elif new_ids:
        land_service.check_parcels(session, land_user, parcel_ids=new_ids)
    if not created:
        return added
    verdicts = {
        p.id: p.check.verdict if p.check else None
        for p in land_service.list_parcels(session, land_user, year=data.year)
    }
    # Most parcels were submitted in October of the year before, some after the 31 October deadline;
    # every fourth is still a draft.
    on_time = dt.datetime(data.year - 1, 10, 20, 9, 0, tzinfo=dt.UTC)
    late = dt.datetime(data.year - 1, 11, 6, 15, 30, tzinfo=dt.UTC)
    groups: dict[tuple[int, dt.datetime], tuple[User, list[int]]] = {}
    for index, (actor, pid) in enumerate(created):
        if index % 4 == 3:
            continue
        when = late if index % 7 == 6 else on_time
        groups.setdefault((actor.id, when), (actor, []))[1].append(pid)
    submitted: list[int] = []
    for (_, when), (actor, ids) in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        land_service.submit_parcels(session, actor, ids, now=when)
        submitted += ids
    added["submitted"] = len(submitted)
    batch = [pid for pid in new_ids if pid in set(submitted) and verdicts.get(pid) == "compliant"][
        :BATCH_SIZE
    ]
    if batch:
        land_service.create_batch(session, land_user, year=data.year, parcel_ids=batch)
        added["batches"] = 1
    return added
