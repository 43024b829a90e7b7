"""Helpers shared by the test suites (import as ``tests.support.<module>``).

- ``tests.support.postgres``: a throwaway PostgreSQL database per test, on the server named by
  ``FIELDMETER_TEST_PG_URL`` (``scripts/test`` sets it).
- ``tests.support.browser``: Debian's chromium through Playwright, servers as subprocesses, waiting helpers.
"""
