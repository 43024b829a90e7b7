"""The one distance function of the GPS verdict (shared_billing.checks): great-circle, as geopy computes it."""

from __future__ import annotations

import pytest
from geopy.distance import geodesic
from hypothesis import given
from hypothesis import strategies as st

from shared_billing.checks import CheckLimits, ReadingFlag, fix_distance_m, gps_flags, great_circle_m

latitudes = st.floats(min_value=-80, max_value=80)
longitudes = st.floats(min_value=-179, max_value=179)
offsets = st.floats(min_value=-0.01, max_value=0.01)  # up to about a kilometre: the checks' range


@given(latitudes, longitudes, offsets, offsets)
def test_the_sphere_stays_near_the_ellipsoid_at_the_checks_range(
    lat: float, lon: float, dlat: float, dlon: float
) -> None:
    # The verdict measures on the sphere for speed; near a meter that must stay within 0.6 % of the geodesic.
    ours = great_circle_m(lat, lon, lat + dlat, lon + dlon)
    assert ours == pytest.approx(geodesic((lat, lon), (lat + dlat, lon + dlon)).meters, rel=0.006, abs=1e-6)


def test_a_known_distance() -> None:
    # 0.01° of latitude is 1,111.95 m on geopy's mean-radius sphere (6,371.009 km).
    assert great_circle_m(30.0, 75.0, 30.01, 75.0) == pytest.approx(1111.95, abs=0.01)


def test_no_distance_without_both_positions() -> None:
    assert fix_distance_m(None, 75.0, 30.0, 75.0) is None
    assert fix_distance_m(30.0, 75.0, 30.0, None) is None
    assert fix_distance_m(30.0, 75.0, 30.0, 75.0) == 0.0


def test_the_verdict_reports_every_gps_flag_in_order_and_only_missing_without_a_fix() -> None:
    limits = CheckLimits(gps_accuracy_limit_m=20.0, gps_radius_m=40.0)
    assert gps_flags(None, None, 5.0, None, limits) == [ReadingFlag.GPS_MISSING.value]
    assert gps_flags(30.0, 75.0, 25.0, 70.0, limits) == [ReadingFlag.GPS_INACCURATE.value, ReadingFlag.GPS_FAR.value]
    assert gps_flags(30.0, 75.0, 20.0, 60.0, limits) == []  # 60 − 20 = 40 m: on the radius, not beyond
    assert gps_flags(30.0, 75.0, None, 10.0, limits) == [ReadingFlag.GPS_INACCURATE.value]
