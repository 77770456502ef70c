"""Settings: every variable of the operations guide, normalised and checked at start-up."""

from __future__ import annotations

import warnings

import pytest
from pydantic import ValidationError

from codesign_playground.config import Settings


def test_defaults_are_embedded(tmp_path: pytest.TempPathFactory) -> None:
    s = Settings(codesign_data_dir=tmp_path, secret_key="test")  # type: ignore[arg-type]
    assert s.embedded and s.is_sqlite and s.database_auto_migrate
    assert s.database_url.endswith("codesign.db")


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "CODESIGN_ENV": "staging",
        "LOG_LEVEL": "warning",
        "DATABASE_URL": "postgresql://u:p@db:5432/codesign",
        "DATABASE_POOL_SIZE": "7",
        "DATABASE_POOL_TIMEOUT": "12",
        "REDIS_URL": "redis://r:6379/0",
        "CACHE_TTL_SECONDS": "60",
        "CACHE_MAX_SIZE_MB": "2",
        "API_WORKERS": "4",
        "API_WORKER_CLASS": "uvicorn.workers.UvicornWorker",
        "SECRET_KEY": "s3cret-s3cret",
        "ALLOWED_HOSTS": "localhost, 127.0.0.1,example.org",
        "RATE_LIMIT_PER_MINUTE": "100",
        "RATE_LIMIT_PER_HOUR": "2000",
        "ENABLE_AUTO_SCALING": "true",
        "ENABLE_DISTRIBUTED_TRACING": "true",
        "AWS_REGION": "us-west-2",
        "JAEGER_ENDPOINT": "http://jaeger:14268/api/traces",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = Settings()
    assert s.codesign_env == "staging" and s.codesign_log_level == "WARNING"
    assert s.database_url == "postgresql+psycopg://u:p@db:5432/codesign"
    assert (s.database_pool_size, s.database_pool_timeout) == (7, 12)
    assert not s.embedded and not s.database_auto_migrate
    assert s.cache_max_bytes == 2 * 1024 * 1024
    assert s.allowed_hosts == ["localhost", "127.0.0.1", "example.org"]
    assert (s.rate_limit_per_minute, s.rate_limit_per_hour) == (100, 2000)
    assert s.api_workers == 4 and s.enable_auto_scaling and s.aws_region == "us-west-2"


@pytest.mark.parametrize("env", ["staging", "production"])
def test_placeholder_secret_refused_outside_development(env: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(codesign_env=env, secret_key="changethis")  # type: ignore[arg-type]


def test_placeholder_secret_is_allowed_quietly_in_development() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no raw UserWarning at start-up: the service logs it
        s = Settings(codesign_env="development", secret_key="changethis")  # type: ignore[arg-type]
    assert s.uses_placeholder_secret


def test_env_files_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import REPO

    for name in (".env.example", ".env.development", ".env.staging", ".env.production"):
        monkeypatch.setenv("CODESIGN_ENV_FILE", str(REPO / name))
        monkeypatch.setenv("SECRET_KEY", "from-the-environment")
        from codesign_playground.config import get_settings

        get_settings.cache_clear()
        s = get_settings()
        assert s.codesign_env in ("development", "staging", "production")
    get_settings.cache_clear()
