from pathlib import Path

import pytest

from shared.config import SettingsError, load_settings


def test_defaults_live_under_pipeline_home(tmp_path: Path) -> None:
    settings = load_settings(pipeline_home=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'pipeline.db'}"
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.ingestion_api_port == 8001 and settings.prediction_service_port == 8002
    assert settings.redis_url is None and settings.auto_promote is True


def test_redis_prefix_differs_per_home(tmp_path: Path) -> None:
    a = load_settings(pipeline_home=tmp_path / "a").redis_prefix
    b = load_settings(pipeline_home=tmp_path / "b").redis_prefix
    assert a != b and a.startswith("mlpipe:")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PIPELINE_HOME", str(tmp_path))
    monkeypatch.setenv("PREDICTION_SERVICE_PORT", "9102")
    monkeypatch.setenv("AUTO_PROMOTE", "false")
    settings = load_settings()
    assert settings.prediction_service_port == 9102 and settings.auto_promote is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("REDIS_URL", "http://localhost:6379"),
        ("INGESTION_API_PORT", "99999"),
        ("AUTO_PROMOTE", "maybe"),
        ("MLFLOW_TRACKING_URI", "ftp://x"),
    ],
)
def test_invalid_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()
