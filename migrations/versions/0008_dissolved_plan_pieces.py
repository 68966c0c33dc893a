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


def upgrade() -> None:
    """Let a piece belong to no single feature."""
    op.alter_column("plan_pieces", "feature_id", existing_type=sa.BigInteger, nullable=True)


def downgrade() -> None:
    """Back to one feature per piece: editions with dissolved pieces lose them (re-import to rebuild)."""
    op.execute("DELETE FROM plan_pieces WHERE feature_id IS NULL")
    op.alter_column("plan_pieces", "feature_id", existing_type=sa.BigInteger, nullable=False)
