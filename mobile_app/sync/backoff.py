"""Exponential backoff with full jitter: pure, with the random source injected so tests are exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

__all__ = ["Backoff", "parse_retry_after"]


@dataclass(frozen=True)
class Backoff:
    """Delay before retry number ``failures``: uniform in ``[0, min(cap_s, base_s * 2 ** (failures - 1))]``.

    Full jitter (rather than a fixed doubling) spreads fifty phones that lost the network together, so they do
    not all come back in the same second. ``random`` returns floats in ``[0, 1)``, like ``random.random``.
    """

    random: Callable[[], float]
    base_s: float = 2.0
    cap_s: float = 300.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < 0:
            raise ValueError("base_s must be positive and cap_s not negative")

    def ceiling_s(self, failures: int) -> float:
        """The largest delay after ``failures`` consecutive failures (0 failures: no wait)."""
        if failures <= 0:
            return 0.0
        # Past this many doublings the cap always wins; stopping here avoids huge powers of two.
        doublings = min(failures - 1, 64)
        return min(self.cap_s, self.base_s * 2.0**doublings)

    def delay_s(self, failures: int) -> float:
        """A jittered delay after ``failures`` consecutive failures; always within ``[0, cap_s]``."""
        fraction = min(max(self.random(), 0.0), 1.0)
        return fraction * self.ceiling_s(failures)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None if there is none.

    An HTTP date is judged against ``now`` (aware); a date in the past means "now" (0). Anything unreadable is
    ignored rather than trusted: the caller's own backoff still applies.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        return None
    return max(0.0, (when - now).total_seconds())
