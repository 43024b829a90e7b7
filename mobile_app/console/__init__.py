"""The browser console (supervisors, admins, accountants): mounted by the server at ``/``, never on the phone.

Everything here is excluded from the phone package (``[tool.flet.app] exclude`` in pyproject.toml); the field app
must not import it (tests/test_flet_package.py follows the phone's imports to check).
"""
