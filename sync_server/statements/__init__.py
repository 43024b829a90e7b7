"""Bank and UPI statements (issue 16, reconciliation): credits read off a statement file (``parse``), matched to
issued bills (``match``), and the matches recorded as payments through the ledger (``apply``).

Named apart from ``sync_server.reconcile``, which judges pushed readings.
"""
