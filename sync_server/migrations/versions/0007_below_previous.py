"""below previous: one name for a reading below the previous one

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 09:00:00

A reading below the previous one had two stored names: the push's flag ``below_previous`` and the bill run's flag
``negative_consumption`` (with the skip code ``bill.negative_consumption``). It has one now, ``below_previous``
(flag) and ``reading.below_previous`` (error code). Stored flags are renamed; a reading that carried both keeps
one. Bill runs' skip lists are history shown to admins: their old code is renamed too, so every stored code is a
registered one. Data only, plain SQL: a migration must not depend on today's application code.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The renamed flag would repeat one the reading already has (or another renamed row of the same reading).
    op.execute(
        """
        DELETE FROM reading_flag
        WHERE code = 'negative_consumption'
          AND (
            EXISTS (
              SELECT 1 FROM reading_flag AS other
              WHERE other.reading_uuid = reading_flag.reading_uuid AND other.code = 'below_previous'
            )
            OR id <> (
              SELECT MIN(earliest.id) FROM reading_flag AS earliest
              WHERE earliest.reading_uuid = reading_flag.reading_uuid AND earliest.code = 'negative_consumption'
            )
          )
        """
    )
    op.execute("UPDATE reading_flag SET code = 'below_previous' WHERE code = 'negative_consumption'")
    # The code is a whole JSON string value, quotes included, so nothing else in the list can match.
    codes = {"old": '"bill.negative_consumption"', "new": '"reading.below_previous"'}
    if op.get_bind().dialect.name == "postgresql":
        rename = (
            "UPDATE bill_run SET skipped = replace(skipped::text, :old, :new)::json "
            "WHERE strpos(skipped::text, :old) > 0"
        )
    else:
        rename = "UPDATE bill_run SET skipped = replace(skipped, :old, :new) WHERE instr(skipped, :old) > 0"
    op.execute(sa.text(rename).bindparams(**codes))


def downgrade() -> None:
    # Nothing to undo: the older server stores flags and skip codes as plain text and shows the new names as they
    # are; which below_previous flags a bill run wrote is not recorded, so they could not be told apart anyway.
    pass
