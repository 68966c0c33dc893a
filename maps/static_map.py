"""Printed briefings: static PNG maps of the county and of one project, rendered without a browser.

Pure: GeoDataFrames in (CGCS2000 lon/lat), PNG bytes out.  matplotlib's Agg canvas only (no pyplot, no
global state), drawn in the Gauss-Kruger projection so shapes and the scale bar are true; title and
legend in Chinese with a CJK font found through matplotlib's font manager.  The image size is fixed by
``PrintSize``, so the same data gives the same picture.
"""

from __future__ import annotations

import io
import math
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.patheffects import withStroke
from shapely.geometry import box

from gis_data.crs import AREA_SRID
from maps import style

#: Fonts tried in order; Debian's fonts-wqy-microhei provides the first.
CJK_FAMILIES: tuple[str, ...] = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "SimHei",
    "Microsoft YaHei",
)
CRS_NOTE = "坐标系：CGCS2000 / 3度带高斯-克吕格投影（中央经线 105°E）"
#: A white halo keeps labels legible over lines and dots.
HALO = [withStroke(linewidth=2.5, foreground="white")]


@dataclass(frozen=True, slots=True)
class PrintSize:
    """Pixel size and resolution of a printed map (default: about A5 landscape at 150 dpi)."""

    width_px: int = 1600
    height_px: int = 1130
    dpi: int = 150


@lru_cache(maxsize=8)
def find_cjk_font(families: tuple[str, ...] = CJK_FAMILIES) -> FontProperties | None:
    """The first installed CJK font of ``families``, or None with a warning (Chinese then shows as boxes)."""
    for family in families:
        try:
            path = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        return FontProperties(fname=path)
    warnings.warn(
        "no CJK font found (tried: " + ", ".join(families) + "); Chinese text in printed maps will not "
        "render. Install Debian's fonts-wqy-microhei.",
        RuntimeWarning,
        stacklevel=2,
    )
    return None


def _font(size: float, families: tuple[str, ...]) -> FontProperties:
    base = find_cjk_font(families)
    font = base.copy() if base is not None else FontProperties()
    font.set_size(size)
    return font


def _projected(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if frame is None or frame.empty:
        return None
    out = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return out.to_crs(AREA_SRID) if not out.empty else None


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of the span (1, 2 or 5 times a power of ten)."""
    target = max(span_m / 5, 1.0)
    power = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * power <= target:
            return step * power
    return power


def _scale_bar(ax, font: FontProperties) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    height = (y1 - y0) * 0.008
    for i in range(2):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                height,
                facecolor="#263238" if i == 0 else "white",
                edgecolor="#263238",
                linewidth=0.8,
                zorder=20,
            )
        )
    label = f"{length / 1000:g} 公里" if length >= 1000 else f"{length:g} 米"
    ax.text(left, bottom + height * 1.8, "0", fontproperties=font, ha="center", va="bottom", zorder=20)
    ax.text(
        left + length, bottom + height * 1.8, label, fontproperties=font, ha="center", va="bottom", zorder=20
    )


def _north_arrow(ax, font: FontProperties) -> None:
    ax.annotate(
        "北",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontproperties=font,
        arrowprops={"arrowstyle": "-|>", "color": "#263238", "lw": 1.6},
        zorder=20,
    )


def _frame_axes(fig: Figure, bounds: tuple[float, float, float, float], *, pad: float):
    """The map axes (left 76 % of the figure) zoomed to ``bounds`` with the figure's aspect kept."""
    ax = fig.add_axes((0.02, 0.08, 0.74, 0.80))
    min_x, min_y, max_x, max_y = bounds
    width = max(max_x - min_x, 1.0) * (1 + 2 * pad)
    height = max(max_y - min_y, 1.0) * (1 + 2 * pad)
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    box_w = fig.get_figwidth() * 0.74
    box_h = fig.get_figheight() * 0.80
    # Equal scale in x and y: widen whichever side is short for the box.
    if width / height < box_w / box_h:
        width = height * box_w / box_h
    else:
        height = width * box_h / box_w
    ax.set_xlim(cx - width / 2, cx + width / 2)
    ax.set_ylim(cy - height / 2, cy + height / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor("#90a4ae")
    ax.set_facecolor("#f7f9fa")
    return ax


def _figure(size: PrintSize) -> Figure:
    fig = Figure(figsize=(size.width_px / size.dpi, size.height_px / size.dpi), dpi=size.dpi)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig


def _header(fig: Figure, title: str, subtitle: str | None, families: tuple[str, ...]) -> None:
    fig.text(0.02, 0.955, title, fontproperties=_font(17, families), ha="left", va="center", weight="bold")
    if subtitle:
        fig.text(
            0.02, 0.912, subtitle, fontproperties=_font(10, families), ha="left", va="center", color="#52606d"
        )


def _footer(fig: Figure, notes: Sequence[str], families: tuple[str, ...]) -> None:
    text = "　".join([*notes, CRS_NOTE])
    fig.text(0.02, 0.035, text, fontproperties=_font(7.5, families), ha="left", va="center", color="#52606d")


def _legend(fig: Figure, handles: list, title: str, families: tuple[str, ...], *, top: float = 0.88) -> float:
    legend = fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.78, top),
        prop=_font(9, families),
        title=title,
        title_fontproperties=_font(10, families),
        frameon=True,
        alignment="left",
    )
    legend.get_frame().set_edgecolor("#cfd8dc")
    fig.canvas.draw()
    box = legend.get_window_extent().transformed(fig.transFigure.inverted())
    return box.y0 - 0.02


def _save(fig: Figure) -> bytes:
    for ax in fig.axes:  # geopandas labels the projected axes in English; the map needs no axis labels
        ax.set_xlabel("")
        ax.set_ylabel("")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buffer.getvalue()


def _status_marker_points(projects: gpd.GeoDataFrame) -> gpd.GeoSeries:
    return projects.geometry.apply(lambda g: g if g.geom_type == "Point" else g.representative_point())


def county_png(
    projects: gpd.GeoDataFrame,
    *,
    county: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    title: str = "清水县重点建设项目进度图",
    subtitle: str | None = None,
    notes: Sequence[str] = (),
    size: PrintSize = PrintSize(),
    font_families: tuple[str, ...] = CJK_FAMILIES,
) -> bytes:
    """The county with its townships and every project as a dot coloured by status, with a legend."""
    projects_p = _projected(projects)
    county_p = _projected(county)
    townships_p = _projected(townships)
    extent_source = (
        county_p if county_p is not None else (townships_p if townships_p is not None else projects_p)
    )
    bounds = tuple(extent_source.total_bounds) if extent_source is not None else (0.0, 0.0, 1000.0, 1000.0)
    fig = _figure(size)
    ax = _frame_axes(fig, bounds, pad=0.03)  # type: ignore[arg-type]
    small = _font(7, font_families)
    if townships_p is not None:
        townships_p.plot(
            ax=ax, facecolor="#ffffff", edgecolor=style.TOWNSHIP_LINE, linewidth=0.6, linestyle="--", zorder=1
        )
        if "name" in townships_p:
            for name, geom in zip(townships_p["name"], townships_p.geometry, strict=True):
                point = geom.representative_point()
                ax.text(
                    point.x,
                    point.y,
                    str(name),
                    fontproperties=small,
                    color="#607d8b",
                    ha="center",
                    va="center",
                    zorder=2,
                    path_effects=HALO,
                )
    if county_p is not None:
        county_p.boundary.plot(ax=ax, color=style.COUNTY_LINE, linewidth=1.6, zorder=3)
    counts: Counter[str] = Counter()
    if projects_p is not None:
        points = _status_marker_points(projects_p)
        codes = [style.status_style(c).code for c in projects_p.get("status", [None] * len(projects_p))]
        # Worst last, so a seriously lagging project is never hidden under a green one.
        for s in sorted(style.STATUS_STYLES, key=lambda s: -s.rank):
            mask = [c == s.code for c in codes]
            if not any(mask):
                continue
            counts[s.code] = sum(mask)
            subset = points[mask]
            ax.scatter(
                subset.x,
                subset.y,
                s=46,
                color=s.color,
                edgecolors="white",
                linewidths=0.9,
                zorder=10 + (10 - s.rank),
            )
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markersize=8,
            markerfacecolor=s.color,
            markeredgecolor="white",
            label=f"{s.label}（{counts.get(s.code, 0)}）",
        )
        for s in style.STATUS_STYLES
        if counts.get(s.code) or s.code not in ("pending", style.NO_DATA)
    ]
    handles += [
        Line2D([], [], color=style.COUNTY_LINE, linewidth=1.6, label="县界"),
        Line2D([], [], color=style.TOWNSHIP_LINE, linewidth=0.8, linestyle="--", label="乡镇界线（示意）"),
    ]
    _legend(fig, handles, f"项目进度（共 {sum(counts.values())} 个）", font_families)
    _header(fig, title, subtitle, font_families)
    _north_arrow(ax, _font(11, font_families))
    _scale_bar(ax, _font(8, font_families))
    _footer(fig, notes, font_families)
    return _save(fig)


def project_png(
    project: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    photos: gpd.GeoDataFrame | None = None,
    townships: gpd.GeoDataFrame | None = None,
    title: str,
    subtitle: str | None = None,
    notes: Sequence[str] = (),
    size: PrintSize = PrintSize(),
    min_extent_m: float = 600.0,
    font_families: tuple[str, ...] = CJK_FAMILIES,
) -> bytes:
    """One project: its site, land-demand parcels by verdict and located photos, with a legend; township
    boundaries and names around it, when given, for orientation."""
    project_p = _projected(project)
    townships_p = _projected(townships)
    parcels_p = _projected(parcels)
    photos_p = _projected(photos)
    frames = [f for f in (project_p, parcels_p) if f is not None]
    if frames:
        bounds = [f.total_bounds for f in frames]
        min_x, min_y = min(b[0] for b in bounds), min(b[1] for b in bounds)
        max_x, max_y = max(b[2] for b in bounds), max(b[3] for b in bounds)
    else:
        min_x = min_y = 0.0
        max_x = max_y = min_extent_m
    cx, cy = (min_x + max_x) / 2, (min_y + max_y) / 2
    half = max(max_x - min_x, max_y - min_y, min_extent_m) / 2
    fig = _figure(size)
    ax = _frame_axes(fig, (cx - half, cy - half, cx + half, cy + half), pad=0.08)
    handles: list = []
    if townships_p is not None:
        view = box(*ax.get_xlim()[:1], ax.get_ylim()[0], ax.get_xlim()[1], ax.get_ylim()[1])
        nearby = townships_p[townships_p.intersects(view)]
        if not nearby.empty:
            # Shared edges once, or their dashes overlap out of step and look solid.
            edges = gpd.GeoSeries([nearby.boundary.union_all()], crs=nearby.crs)
            edges.plot(ax=ax, color=style.TOWNSHIP_LINE, linewidth=0.8, linestyle="--", zorder=1)
            town_font = _font(9, font_families)
            for name, geom in zip(nearby.get("name", [""] * len(nearby)), nearby.geometry, strict=True):
                point = geom.intersection(view).representative_point()
                ax.text(
                    point.x,
                    point.y,
                    str(name),
                    fontproperties=town_font,
                    color="#90a4ae",
                    ha="center",
                    va="center",
                    zorder=1,
                    path_effects=HALO,
                    clip_on=True,
                )
            handles.append(
                Line2D(
                    [], [], color=style.TOWNSHIP_LINE, linewidth=0.8, linestyle="--", label="乡镇界线（示意）"
                )
            )
    if parcels_p is not None:
        verdicts = [style.verdict_style(v) for v in parcels_p.get("verdict", [None] * len(parcels_p))]
        parcels_p.plot(
            ax=ax, color=[c for _, c in verdicts], alpha=0.45, edgecolor="#37474f", linewidth=0.8, zorder=2
        )
        label_font = _font(7.5, font_families)
        for code, geom in zip(
            parcels_p.get("parcel_code", [""] * len(parcels_p)), parcels_p.geometry, strict=True
        ):
            point = geom.representative_point()
            ax.text(
                point.x,
                point.y,
                str(code),
                fontproperties=label_font,
                ha="center",
                va="center",
                zorder=6,
                path_effects=HALO,
            )
        for label, color in dict.fromkeys(verdicts):
            handles.append(Patch(facecolor=color, alpha=0.6, edgecolor="#37474f", label=f"用地地块：{label}"))
    if project_p is not None:
        s = style.status_style(project_p.iloc[0].get("status") if "status" in project_p else None)
        polygons = project_p[project_p.geom_type.isin(["Polygon", "MultiPolygon"])]
        lines = project_p[project_p.geom_type.isin(["LineString", "MultiLineString"])]
        points = project_p[project_p.geom_type.isin(["Point", "MultiPoint"])]
        if not polygons.empty:
            polygons.plot(
                ax=ax, facecolor=s.color, alpha=0.25, edgecolor=style.SITE_LINE, linewidth=2, zorder=4
            )
        if not lines.empty:
            lines.plot(ax=ax, color=style.SITE_LINE, linewidth=3, zorder=4)
        if not points.empty:
            points.plot(ax=ax, color=s.color, markersize=120, edgecolor="white", linewidth=1.5, zorder=5)
        label = f"项目位置（{s.label}）"
        if not polygons.empty:
            site_handle = Patch(facecolor=s.color, alpha=0.5, edgecolor=style.SITE_LINE, label=label)
        elif not lines.empty:
            site_handle = Line2D([], [], color=style.SITE_LINE, linewidth=3, label=label)
        else:
            site_handle = Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markersize=9,
                markerfacecolor=s.color,
                markeredgecolor="white",
                label=label,
            )
        handles.insert(0, site_handle)
    if photos_p is not None:
        for code, (label, color) in style.PHOTO_VERDICT_STYLES.items():
            subset = (
                photos_p[photos_p.get("verdict", "") == code] if "verdict" in photos_p else photos_p.iloc[0:0]
            )
            if subset.empty:
                continue
            ax.scatter(
                subset.geometry.x,
                subset.geometry.y,
                marker="s",
                s=30,
                color=color,
                edgecolors="white",
                linewidths=0.8,
                zorder=7,
            )
            handles.append(
                Line2D(
                    [],
                    [],
                    marker="s",
                    linestyle="",
                    markersize=6,
                    markerfacecolor=color,
                    markeredgecolor="white",
                    label=f"督查照片：{label}（{len(subset)}）",
                )
            )
    _legend(fig, handles or [Patch(facecolor="#eeeeee", label="暂无图层")], "图例", font_families)
    _header(fig, title, subtitle, font_families)
    _north_arrow(ax, _font(11, font_families))
    _scale_bar(ax, _font(8, font_families))
    _footer(fig, notes, font_families)
    return _save(fig)
