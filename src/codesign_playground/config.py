"""Service settings: the one place that reads the environment.

Every variable of the operations guide is a field here (``CODESIGN_ENV``, ``DATABASE_URL``,
``REDIS_URL``, ``API_*``, ``RATE_LIMIT_*``, ``ENABLE_*`` ...). Values come from the process
environment, then from the file named by ``CODESIGN_ENV_FILE`` (or ``.env`` when present).
Library packages never import this module; ``cli`` and ``service`` receive a :class:`Settings`
through :func:`get_settings`, which tests replace with ``app.dependency_overrides``.

Two deployment modes follow from the values:

* **embedded** (no ``REDIS_URL``): SQLite in ``CODESIGN_DATA_DIR`` unless ``DATABASE_URL`` says
  otherwise, an in-process bounded cache and an in-process worker thread pool;
* **distributed** (``REDIS_URL`` set): Redis cache, rate limits and Celery queue, PostgreSQL
  through psycopg 3, workers started with ``python -m codesign_playground.worker``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from codesign_playground._version import __version__

__all__ = [
    "PLACEHOLDER_SECRETS",
    "ArtifactStoreKind",
    "AuthMode",
    "Environment",
    "Settings",
    "get_settings",
    "is_loopback",
]

Environment = Literal["development", "test", "staging", "production"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
AuthMode = Literal["none", "api-key"]
ArtifactStoreKind = Literal["auto", "s3", "local", "database"]

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "your-secret-key-here", "change-me"})
"""SECRET_KEY values accepted only in development and test."""


def _env_files() -> tuple[str, ...]:
    named = os.environ.get("CODESIGN_ENV_FILE")
    if named:
        return (named,)
    return (".env",) if Path(".env").is_file() else ()


class Settings(BaseSettings):
    """Every setting of the service; field names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", case_sensitive=False, populate_by_name=True
    )

    # -- application ---------------------------------------------------------------------------
    codesign_env: Environment = "development"
    codesign_version: str = __version__
    codesign_log_level: LogLevel = Field(
        default="INFO", validation_alias=AliasChoices("CODESIGN_LOG_LEVEL", "LOG_LEVEL")
    )
    debug: bool = False
    codesign_data_dir: Path = Path(".codesign")

    # -- database ------------------------------------------------------------------------------
    database_url: str = ""
    database_pool_size: int = Field(default=20, ge=1)
    database_pool_timeout: float = Field(default=30, gt=0)
    database_auto_migrate: bool | None = None

    # -- cache and queue -----------------------------------------------------------------------
    redis_url: str = ""
    redis_key_prefix: str = "codesign"
    cache_ttl_seconds: int = Field(default=3600, ge=1)
    cache_max_size_mb: float = Field(default=1024, gt=0)

    # -- API server ----------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    api_workers: int = Field(default=1, ge=1)
    api_worker_class: str = "uvicorn.workers.UvicornWorker"

    # -- security ------------------------------------------------------------------------------
    secret_key: str = "changethis"
    auth_mode: AuthMode | None = Field(
        default=None,
        description="none (embedded on loopback only) or api-key; default: none for the "
        "embedded development default bound to loopback, else api-key",
    )
    oidc_issuer: str = ""
    oidc_audience: str = ""
    oidc_jwks_url: str = ""
    oidc_owner_claim: str = "sub"
    oidc_algorithms: Annotated[list[str], NoDecode] = ["RS256", "ES256"]
    allowed_hosts: Annotated[list[str], NoDecode] = ["localhost", "127.0.0.1"]
    cors_origins: Annotated[list[str], NoDecode] = []
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    rate_limit_enabled: bool = True
    rate_limit_per_minute: int = Field(default=60, ge=1)
    rate_limit_per_hour: int = Field(default=1000, ge=1)
    ssl_enabled: bool = False

    # -- feature flags -------------------------------------------------------------------------
    enable_auto_scaling: bool = False
    enable_security_validation: bool = True
    enable_performance_monitoring: bool = True
    enable_distributed_tracing: bool = False

    # -- uploads and request limits ------------------------------------------------------------
    model_max_upload_mb: float = Field(default=50, gt=0)
    model_max_nodes: int = Field(default=20000, ge=1)
    model_max_rank: int = Field(default=8, ge=1, description="most dimensions of one tensor")
    model_max_dim: int = Field(default=2**24, ge=1, description="largest one dimension")
    model_max_tensor_elements: int = Field(
        default=2**31 - 1, ge=1, description="most elements of one tensor (shape product)"
    )
    api_max_body_kb: float = Field(
        default=1024, gt=0, description="largest request body other than a model upload"
    )
    explore_max_points: int = Field(
        default=10_000_000, ge=1, description="largest design space (product of knob counts)"
    )

    # -- jobs ----------------------------------------------------------------------------------
    job_queue: str = "codesign"
    job_time_limit_seconds: int = Field(default=3600, ge=1)
    job_max_retries: int = Field(default=3, ge=0)
    worker_concurrency: int = Field(default=2, ge=1)
    worker_heartbeat_seconds: float = Field(default=5, gt=0)
    job_stale_after_seconds: float = Field(
        default=15, ge=1, description="a running job silent this long is taken over"
    )
    codesign_explore_queue: str = Field(
        default="",
        description="Celery queue of long searches and their chunks (default: JOB_QUEUE-explore);"
        " JOB_QUEUE carries the interactive work (RTL, small explorations)",
    )
    codesign_worker_queues: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="queues this worker consumes: interactive, explore or both (the default)",
    )
    codesign_interactive_max_points: int = Field(
        default=20_000,
        ge=0,
        description="explorations planning at most this many points go to the interactive queue",
    )
    codesign_chunk_points: int = Field(
        default=0, ge=0, description="grid points per chunk; 0: about CODESIGN_CHUNK_SECONDS each"
    )
    codesign_chunk_seconds: float = Field(
        default=10, gt=0, description="target evaluation time of one chunk (when chunk points=0)"
    )
    codesign_shared_studies: bool = Field(
        default=False,
        description="NSGA-II/TPE jobs spread their batches over workers through one optuna "
        "study in PostgreSQL (their points then depend on timing)",
    )
    codesign_job_max_workers: int = Field(
        default=0, ge=0, description="most chunks of one job evaluated at once (0: no limit)"
    )
    codesign_owner_max_workers: int = Field(
        default=0, ge=0, description="most chunks of one owner's jobs evaluated at once (0: none)"
    )

    # -- RTL synthesis (Yosys) of RTL jobs and ``codesign rtl synth`` --------------------------
    codesign_synth_memory_mb: int = Field(
        default=8192,
        ge=1,
        description="address space of Yosys and of each ABC process it starts (ulimit -v), in "
        "MB (rtl._synth.SYNTH_MEMORY_MB)",
    )
    codesign_synth_timeout_seconds: float = Field(
        default=600, gt=0, description="longest synthesis; Yosys and ABC are killed after it"
    )
    codesign_synth_max_pes: int = Field(
        default=256,
        ge=4,
        description="largest array (rows x cols PEs) a request may ask to synthesize (4: the "
        "smallest array, 2x2); default: 16x16 took 101 s and 3.4 GB (Yosys and ABC together), "
        "so two fit a worker pod's 8 GiB; 24x24 took 7.4 GB, 32x32 ran out of 8192 MB "
        "(benchmarks/bench_synth.py, docs/rtl.md)",
    )

    # -- reports and artifacts of jobs ---------------------------------------------------------
    artifact_store: ArtifactStoreKind = Field(
        default="auto",
        description="where job reports and artifacts go: s3 (AWS_S3_BUCKET), local "
        "(CODESIGN_DATA_DIR/store, a folder every API and worker process shares) or database "
        "(the job row); auto: s3 when AWS_S3_BUCKET is set, else local when embedded, else "
        "database",
    )
    aws_s3_bucket: str = ""
    aws_s3_endpoint_url: str = Field(
        default="", description="an S3-compatible store (MinIO, Ceph ...); empty: AWS itself"
    )
    aws_s3_prefix: str = Field(default="codesign/", description="key prefix inside the bucket")
    aws_region: str = ""
    aws_access_key_id: str = ""
    aws_secret_access_key: str = ""
    artifact_download_redirect: bool = Field(
        default=False,
        description="answer artifact downloads with a redirect to a presigned S3 URL (clients "
        "must reach the store) instead of streaming them through the API",
    )
    artifact_url_expiry_seconds: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    codesign_artifact_retention_days: int = Field(
        default=0,
        ge=0,
        description="delete the report and artifact of jobs finished more than this many days "
        "ago (the workers, hourly; the job rows stay and their downloads answer 410); 0: keep",
    )

    # -- deployment facts the service only reports or passes on -------------------------------
    pod_name: str = ""
    pod_namespace: str = ""
    prometheus_url: str = ""
    grafana_url: str = ""
    jaeger_endpoint: str = ""
    otel_exporter_otlp_endpoint: str = ""

    @field_validator(
        "allowed_hosts",
        "cors_origins",
        "forwarded_allow_ips",
        "oidc_algorithms",
        "codesign_worker_queues",
        mode="before",
    )
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    @field_validator("codesign_log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        # psycopg 3 is the only PostgreSQL driver installed; plain URLs would pick psycopg2
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @model_validator(mode="after")
    def _derive(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.codesign_data_dir / 'codesign.db').resolve()}"
        if self.database_auto_migrate is None:
            self.database_auto_migrate = self.is_sqlite
        local = (
            self.embedded
            and self.codesign_env in ("development", "test")
            and is_loopback(self.api_host)
        )
        if self.auth_mode is None:
            self.auth_mode = "none" if local else "api-key"
        elif self.auth_mode == "none" and not local:
            raise ValueError(
                "AUTH_MODE: none is allowed only for the embedded development server bound to "
                f"loopback (got CODESIGN_ENV={self.codesign_env}, API_HOST={self.api_host}, "
                f"REDIS_URL {'set' if self.redis_url else 'empty'}); use AUTH_MODE=api-key and "
                "create keys with 'codesign keys create'"
            )
        if self.artifact_store == "s3" and not self.aws_s3_bucket:
            raise ValueError(
                "ARTIFACT_STORE: s3 needs AWS_S3_BUCKET (the bucket name); set it, or use "
                "ARTIFACT_STORE=auto"
            )
        if self.artifact_store == "auto":
            self.artifact_store = (
                "s3" if self.aws_s3_bucket else "local" if self.embedded else "database"
            )
        odd = [q for q in self.codesign_worker_queues if q not in ("interactive", "explore")]
        if odd:
            raise ValueError(
                f"CODESIGN_WORKER_QUEUES: unknown {odd[0]!r}; list interactive, explore or both"
            )
        if "*" in self.allowed_hosts and self.codesign_env in ("staging", "production"):
            raise ValueError(
                f"ALLOWED_HOSTS: '*' is refused in {self.codesign_env}; list the host names "
                "clients use"
            )
        if self.secret_key in PLACEHOLDER_SECRETS and self.codesign_env not in (
            "development",
            "test",
        ):
            raise ValueError(
                f"SECRET_KEY: the placeholder value is refused in {self.codesign_env}; "
                "set SECRET_KEY to a long random string"
            )
        return self

    @property
    def uses_placeholder_secret(self) -> bool:
        """Whether SECRET_KEY is a known placeholder (allowed only in development and test)."""
        return self.secret_key in PLACEHOLDER_SECRETS

    @property
    def explore_queue(self) -> str:
        """The Celery queue of long searches and exploration chunks."""
        return self.codesign_explore_queue or f"{self.job_queue}-explore"

    @property
    def worker_queue_names(self) -> list[str]:
        """The Celery queues a worker consumes (CODESIGN_WORKER_QUEUES, default both)."""
        roles = self.codesign_worker_queues or ["interactive", "explore"]
        names = {"interactive": self.job_queue, "explore": self.explore_queue}
        return [names[r] for r in roles]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded(self) -> bool:
        """No Redis: in-process cache, rate limits and job worker."""
        return not self.redis_url

    @property
    def cache_max_bytes(self) -> int:
        return int(self.cache_max_size_mb * 1024 * 1024)

    @property
    def api_max_body_bytes(self) -> int:
        return int(self.api_max_body_kb * 1024)

    @property
    def model_max_upload_bytes(self) -> int:
        return int(self.model_max_upload_mb * 1024 * 1024)


def is_loopback(host: str) -> bool:
    """``host`` names only this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    import ipaddress

    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once (tests swap them with dependency overrides)."""
    return Settings(_env_file=_env_files() or None)
