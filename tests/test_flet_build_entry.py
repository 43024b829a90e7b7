"""The root main.py that `flet build` packages builds the field app on the device's storage folder."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_main_builds_the_field_app_on_the_app_storage_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLET_APP_STORAGE_DATA", str(tmp_path / "storage"))
    monkeypatch.setenv("FIELDMETER_SERVER", "http://10.0.2.2:8000")
    spec = importlib.util.spec_from_file_location("fieldmeter_flet_main", ROOT / "main.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    service, app_main = module.build()
    assert service.server_url == "http://10.0.2.2:8000"
    assert (tmp_path / "storage" / "phone.db").exists()
    assert callable(app_main)
    service.store.engine.dispose()


def test_flet_build_config_asks_for_location_and_camera() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["flet"]
    permissions = config["android"]["permission"]
    assert permissions["android.permission.ACCESS_FINE_LOCATION"] is True
    assert permissions["android.permission.CAMERA"] is True
    assert "NSLocationWhenInUseUsageDescription" in config["ios"]["info"]
    assert "NSCameraUsageDescription" in config["ios"]["info"]
