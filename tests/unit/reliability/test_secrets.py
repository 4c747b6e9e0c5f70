"""Item 4, access: secrets come only from the environment, and every default address is
loopback (that a default `longtail serve` listens there only:
tests/integration/reliability/test_listening.py). Session isolation, staff login and the chat
rate limit: tests/unit/api/test_isolation_and_limits.py, tests/unit/ui/test_screens.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from core.settings import Settings, load_settings
from runtime.auth import StaffAuth

SECRET_NAME = re.compile(r"(key|password|token|secret)$")


def _field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _field_names(annotation, f"{prefix}{name}.")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_no_setting_holds_a_secret_only_the_name_of_its_variable() -> None:
    names = _field_names(Settings)
    assert {"llm.api_key_env", "encoder.api_key_env", "api.staff_password_env"} <= set(names)
    assert [n for n in names if SECRET_NAME.search(n)] == []


@pytest.mark.parametrize(
    ("table", "key"),
    [("llm", "api_key"), ("encoder", "api_key"), ("api", "staff_password"), ("api", "staff_token")],
)
def test_a_secret_in_the_config_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, key: str
) -> None:
    config = tmp_path / "longtail.toml"
    config.write_text(f'[{table}]\n{key} = "hunter2"\n')
    monkeypatch.setenv("LONGTAIL_CONFIG", str(config))
    with pytest.raises(ValidationError, match=f"{table}.{key} is not a setting|staff secrets"):
        load_settings()


def test_staff_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGTAIL_STAFF_PASSWORD", "from-the-env")
    auth = StaffAuth.from_settings(Settings().api)
    assert auth.password == "from-the-env" and not auth.generated


def test_every_default_address_is_loopback() -> None:
    settings = Settings()
    assert settings.api.host == settings.store.host == "127.0.0.1"
