"""Exports for the society's office: a month's readings, bills, payments and ledger as CSV or XLSX, and its bills
and payments as Tally vouchers (docs/exports.md)."""
