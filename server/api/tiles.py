"""Vector tiles (MVT) of parcels, plan layers and projects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from server.api.deps import CurrentUser, SessionDep, TokenDep
from server.api.maps import MapFilterDep
from server.services import auth as auth_service
from server.services import progress_map as map_service
from server.services import tiles as tiles_service

router = APIRouter(prefix="/tiles", tags=["tiles"])


async def get_tile_memory(request: Request) -> tiles_service.TileMemory:
    """The app's in-memory tile LRU (shared with the fast path, see server.api.tile_fast_path)."""
    return request.app.state.tile_memory


TileMemoryDep = Annotated[tiles_service.TileMemory, Depends(get_tile_memory)]


@router.get("", name="tiles_index")
def list_layers(request: Request, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    """The tile layers (TileJSON-like): URL template, zoom range, fields, bounds."""
    tiles_url = str(request.url_for("tiles_index")).rstrip("/")
    return tiles_service.list_layers(session, user, tiles_url=tiles_url)


@router.get(
    "/{layer}/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={200: {"content": {tiles_service.MVT_MEDIA_TYPE: {}}}, 304: {"description": "Not modified"}},
)
async def get_tile(
    request: Request,
    layer: str,
    z: str,
    x: str,
    y: str,
    token: TokenDep,
    memory: TileMemoryDep,
    filters: MapFilterDep,
    edition: Annotated[int | None, Query(ge=1, description="规划版本 id（仅规划图层；默认最新版本）")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """One Mapbox Vector Tile; every feature touching the tile is in it, with its database id.

    Parcels and projects can be filtered like the county map (township, category, leader, status...).

    A map asks for dozens of tiles at once, most of them already in memory: the session, the login
    check and the tile are done in one worker-thread hop (what ``SessionDep`` + ``CurrentUser`` would
    do in three), which is most of the cost of a cached tile.
    """

    def load() -> tiles_service.Tile:
        with request.app.state.sessionmaker() as session:
            user = auth_service.authenticate(session, token)
            address = tiles_service.parse_address(layer, z, x, y)
            only = None
            if address.layer.scoped and map_service.is_filtered(filters.projects, filters.progress_status):
                only = map_service.filtered_project_ids(
                    session, user, filters.projects, progress_status=filters.progress_status
                )
            return tiles_service.get_tile(
                session, user, address, edition_id=edition, memory=memory, only_projects=only
            )

    tile = await run_in_threadpool(load)
    headers = {"ETag": tile.etag, "Cache-Control": tiles_service.CACHE_CONTROL, "Vary": "Authorization"}
    if tiles_service.matches(if_none_match, tile.etag):
        return Response(status_code=304, headers=headers)
    return Response(content=tile.data, media_type=tiles_service.MVT_MEDIA_TYPE, headers=headers)
