"""The figures behind the console's charts: consumption, collection and ageing, engineers' quality.

Each report is computed here from the central database and answered by ``/api/reports/...`` as data; the console
draws it as a chart with a table beside it (docs/reports.md says what each figure means and where it comes from).
"""
