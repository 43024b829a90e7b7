"""Server billing: pricing approved readings (with shared_billing), bill runs, issuing, the ledger and payments."""

from sync_server.billing.compute import draft_bill, price_reading
from sync_server.billing.single import bill_for_reading

__all__ = ["bill_for_reading", "draft_bill", "price_reading"]
