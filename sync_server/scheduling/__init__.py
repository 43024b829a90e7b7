"""Jobs the server runs by itself on a calendar (monthly bill runs, overdue refresh, daily backup).

``calendar`` holds the pure rules (when is the next run), ``store`` the table (defaults, claims, results),
``jobs`` what each kind does, ``runner`` one pass over the due jobs; ``sync_server.housekeeping.scheduler_loop``
runs the passes under one lease.
"""
