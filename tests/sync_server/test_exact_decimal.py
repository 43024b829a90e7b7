"""Exact decimal columns round like the billing engine (half-up), on both backends, and a unit's rate keeps four
places (``sync_server/db_types.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from sync_server.db_types import Money, UnitRate

D = Decimal
DIALECTS = [sqlite.dialect(), postgresql.psycopg.dialect()]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
@pytest.mark.parametrize(("written", "stored"), [("0.125", "0.13"), ("0.135", "0.14"), ("-0.125", "-0.13")])
def test_money_rounds_half_up_like_the_engine(dialect: Dialect, written: str, stored: str) -> None:
    # Decimal's own default is half-even (0.125 → 0.12): one figure must never round two ways.
    bound = Money().process_bind_param(D(written), dialect)
    assert D(str(bound)) == D(stored)
    assert Money().process_result_value(written, dialect) == D(stored)


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_rate_keeps_four_places_and_reads_back_as_a_bill_prints_it(dialect: Dialect) -> None:
    assert D(str(UnitRate().process_bind_param(D("4.125"), dialect))) == D("4.125")
    assert str(UnitRate().process_result_value("4.1250", dialect)) == "4.125"
    assert str(UnitRate().process_result_value("9.0000", dialect)) == "9.00"
    assert str(UnitRate().process_result_value(D("0E-4"), dialect)) == "0.00"
