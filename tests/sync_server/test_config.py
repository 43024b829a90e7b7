from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sync_server.config import SECRET_FILE, Settings, load_secret_key


def test_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = load_secret_key(settings)
    assert len(first) >= 32
    assert load_secret_key(Settings(data_dir=tmp_path)) == first
    mode = stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode)
    assert mode & 0o077 == 0


def test_other_data_dir_gets_another_secret(tmp_path: Path) -> None:
    assert load_secret_key(Settings(data_dir=tmp_path / "a")) != load_secret_key(Settings(data_dir=tmp_path / "b"))


def test_short_configured_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 32"):
        load_secret_key(Settings(data_dir=tmp_path, secret_key="short"))


def test_database_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert Settings(data_dir=tmp_path).sqlalchemy_url == f"sqlite:///{(tmp_path / 'fieldmeter.db').resolve()}"
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h:5432/db")
    assert Settings(data_dir=tmp_path).sqlalchemy_url == "postgresql+psycopg://u@h:5432/db"


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        Settings(data_dir=tmp_path, society_timezone="Mars/Olympus")
