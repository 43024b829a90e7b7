"""Fieldmeter sync server: FastAPI app, central database, review and billing."""

__version__ = "0.1.0"
