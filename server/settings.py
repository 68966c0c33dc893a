"""Settings from the environment (prefix ``SITEWATCH_``) with safe local defaults."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
_PLACEHOLDER_KEYS = frozenset({"changeme", "change-me", "your-key", "yourkey", "xxx", "todo", "key", "tk"})


class Settings(BaseSettings):
    """Application settings; build one per process with ``Settings()`` and pass it down."""

    model_config = SettingsConfigDict(env_prefix="SITEWATCH_", env_file=None, extra="ignore")

    #: Production database. Unset: Sitewatch runs its own embedded PostgreSQL + PostGIS cluster.
    database_url: str | None = None
    #: Where the embedded cluster keeps its data (ignored when ``database_url`` is set).
    data_dir: Path = REPO_ROOT / "var"
    #: Database connections the app keeps open and ready (opened at start-up; more are opened for a
    #: burst and closed again).
    db_pool_size: int = Field(default=10, ge=1, le=100)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Lifetime of a login token.
    token_ttl_hours: int = Field(default=12, ge=1, le=24 * 30)
    #: Largest JSON request body the API accepts, in bytes.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    #: Serve plain tile requests of read-all users before routing, on the event loop (see
    #: server.api.tile_fast_path); off, every tile takes the full route.
    tile_fast_path: bool = True
    #: FastAPI's native OpenTelemetry instrumentation (spans, metrics and logs through the globally
    #: configured providers). Off by default: county deployments run no collector, and with it on, every
    #: request first asks whether any provider is configured.
    opentelemetry: bool = False
    #: Largest file upload (plan layers, parcel files), in bytes.
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    #: Where evidence photos are stored (default: <data_dir>/photos); with the S3 store, only the
    #: staging of uploads in progress.
    photo_dir: Path | None = None
    #: Where evidence files live: ``local`` (photo_dir) or ``s3`` (a bucket of an S3-compatible store;
    #: needs ``pip install 'sitewatch[s3]'``; credentials from the standard AWS environment variables).
    blob_store: Literal["local", "s3"] = "local"
    s3_bucket: str | None = None
    s3_prefix: str = ""
    #: For a self-hosted store (MinIO, Ceph): its endpoint, e.g. http://10.0.0.5:9000.
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    #: Largest single photo, and largest phone request (a batch of photos), in bytes.
    max_photo_bytes: int = Field(default=60 * 1024 * 1024, ge=1024)
    max_mobile_request_bytes: int = Field(default=300 * 1024 * 1024, ge=1024)
    #: Photos with more pixels than this are refused before decoding (decompression bombs).
    max_photo_pixels: int = Field(default=120_000_000, ge=1_000_000)
    #: A photo this close to the site counts as taken there; older than max_age days is flagged.
    photo_site_buffer_m: float = Field(default=200.0, ge=0)
    photo_max_age_days: int = Field(default=3, ge=0)
    #: Overlaps below this area (m2) are slivers: reported apart, never a conflict.
    land_sliver_m2: float = Field(default=1.0, ge=0)
    #: How far (metres) a project site may reach beyond the county outline (the outline is approximate).
    county_tolerance_m: float = Field(default=500.0, ge=0)
    #: Default and largest page sizes of list endpoints.
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=500, ge=1)
    #: Load the demo county into an empty database when serving.
    demo_on_empty: bool = True
    log_level: str = "INFO"
    #: Base map under the progress map: ``none`` (intranet, no outside request), ``osm``, ``tianditu``
    #: (needs ``tianditu_key``) or ``gcj02_amap`` (a GCJ-02 map: our layers are then shifted into GCJ-02).
    basemap: Literal["none", "osm", "tianditu", "gcj02_amap"] = "none"
    #: Tianditu key (``tk``). Browsers fetch the tiles, so every map user sees it: bind the key to this site.
    tianditu_key: str | None = None

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("tianditu_key")
    @classmethod
    def _real_key(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if value.lower() in _PLACEHOLDER_KEYS or not re.fullmatch(r"[A-Za-z0-9]{16,64}", value):
            raise ValueError(
                "tianditu_key must be a real Tianditu key (letters and digits), not a placeholder"
            )
        return value

    @model_validator(mode="after")
    def _basemap_key(self) -> Settings:
        if self.basemap == "tianditu" and self.tianditu_key is None:
            raise ValueError("basemap 'tianditu' needs tianditu_key (SITEWATCH_TIANDITU_KEY)")
        return self

    @model_validator(mode="after")
    def _s3_bucket(self) -> Settings:
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ValueError("blob_store 's3' needs s3_bucket (SITEWATCH_S3_BUCKET)")
        return self

    @model_validator(mode="after")
    def _page_sizes(self) -> Settings:
        if self.page_size_default > self.page_size_max:
            raise ValueError("page_size_default must not exceed page_size_max")
        return self

    @property
    def photos_path(self) -> Path:
        """Directory of the evidence blob store."""
        return self.photo_dir or (self.data_dir / "photos")

    @property
    def pgdata(self) -> Path:
        """Data directory of the embedded cluster."""
        return self.data_dir / "pgdata"
