"""Bringing a society's records over from the system Fieldmeter replaces: master data (units, meters, shared
meters and their members) and the opening position (last readings, balances owed).

Parsing is pure (a file's bytes in, rows or quarantined lines out); applying writes through the same rules the
admin's screens use, in one transaction per file, and a dry run rolls it back.
"""
