"""Flet views: they render state and forward events; no database or socket here."""
