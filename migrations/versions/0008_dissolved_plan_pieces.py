"""Plan pieces may be cut from several features at once: ``plan_pieces.feature_id`` becomes nullable.

Pieces are now cut from each layer and land-use class dissolved within a square tile (when its
features do not overlap), so that a piece no longer belongs to one feature; a piece cut from a single
feature keeps its ``feature_id``.  Editions imported before keep their per-feature pieces, which give
the same areas (the overlay sums over pieces either way).

Revision ID: 0008_dissolved_plan_pieces
Revises: 0007_tile_parcel_attributes
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_dissolved_plan_pieces"
down_revision = "0007_tile_parcel_attributes"
branch_labels = None
depends_on = None

#: Vertices per piece when per-feature pieces are rebuilt on downgrade (as before this revision).
_PIECE_MAX_VERTICES = 96


def upgrade() -> None:
    """Let a piece belong to no single feature."""
    op.alter_column("plan_pieces", "feature_id", existing_type=sa.BigInteger, nullable=True)


def downgrade() -> None:
    """Back to one feature per piece: editions with dissolved pieces get per-feature pieces again."""
    op.execute("DROP TABLE IF EXISTS dissolved_editions")
    op.execute(
        """
        CREATE TEMP TABLE dissolved_editions ON COMMIT DROP AS
        SELECT DISTINCT edition_id FROM plan_pieces WHERE feature_id IS NULL
        """
    )
    op.execute("DELETE FROM plan_pieces WHERE edition_id IN (SELECT edition_id FROM dissolved_editions)")
    op.execute(
        f"""
        INSERT INTO plan_pieces (feature_id, edition_id, layer, class_code, geom)
        SELECT f.id, f.edition_id, f.layer, f.class_code, piece
        FROM plan_features f,
             LATERAL ST_Subdivide(ST_MakeValid(f.geom_area), {_PIECE_MAX_VERTICES}) AS piece
        WHERE f.edition_id IN (SELECT edition_id FROM dissolved_editions)
          AND GeometryType(piece) = 'POLYGON'
        """
    )
    op.alter_column("plan_pieces", "feature_id", existing_type=sa.BigInteger, nullable=False)
