"""Settings, read once from environment variables prefixed with ``APP_``."""

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field{% if cookiecutter.database == "postgresql" %}, SecretStr{% endif %}
{%- if cookiecutter.database == "postgresql" %}
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    SettingsConfigDict,
)
{%- else %}
from pydantic_settings import BaseSettings, SettingsConfigDict
{%- endif %}

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
{%- if cookiecutter.database == "postgresql" %}
# Where Kubernetes mounts the service's Secret (deploy/): each file, named as its
# variable (APP_DB_PASSWORD), sets that setting; a variable that is set wins.
SECRETS = Path("/run/secrets/app")
{%- endif %}


def project_version() -> str:
    """pyproject.toml's version, the one place it is written; the image has the file."""
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    return str(tomllib.loads(text)["project"].get("version", "unknown"))


class Settings(BaseSettings):
    """Every field can be set as ``APP_<FIELD>``, e.g. ``APP_LOG_LEVEL=DEBUG``{% if cookiecutter.database == "postgresql" %}, or
    by a file of that name in ``SECRETS``{% endif %}."""

    model_config = SettingsConfigDict(env_prefix="APP_")
{%- if cookiecutter.database == "postgresql" %}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Variables first, then the Secret's files, where Kubernetes mounts them."""
        if not SECRETS.is_dir():
            return init_settings, env_settings
        files = SecretsSettingsSource(settings_cls, secrets_dir=SECRETS)
        return init_settings, env_settings, files
{%- endif %}

    title: str = Field(
        default={{ cookiecutter.project_name | py_str }},
        description="Title of the API docs.",
    )
    description: str = Field(
        default={{ cookiecutter.description | py_str }},
        description="Description in the API docs.",
    )
    version: str = Field(
        default_factory=project_version,
        description="The service's version: pyproject.toml's, in the API docs and /version.",
    )
    revision: str = Field(
        default="unknown",
        description="The commit the image was built from (the REVISION build argument).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO",
        description="Level of the service's own logs.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="Every log line as one JSON object, or as text for people (`make run`).",
    )
    max_request_head: int = Field(
        default=65536,
        gt=0,
        description="Bytes a request's line and headers may take; more is answered 431.",
    )
    request_head_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds from a request's first byte to the end of its headers.",
    )
    docs: bool = Field(
        default=True,
        description="Serve the API docs (/docs, /redoc, /openapi.json).",
    )
{%- if cookiecutter.tracing == "opentelemetry" %}
    trust_trace_context: bool = Field(
        default=True,
        description="Continue the trace a request's traceparent names (False: a new one).",
    )
{%- endif %}
    cors_origins: list[str] = Field(
        default=[],
        description='Origins browsers may call the API from, e.g. ["https://app.example.com"].',
    )
{%- if cookiecutter.database == "postgresql" %}
    db_host: str = Field(
        default="127.0.0.1", description="PostgreSQL's host name or address."
    )
    db_port: int = Field(default=5432, gt=0, lt=65536, description="PostgreSQL's port.")
    db_name: str = Field(
        default={{ cookiecutter.project_slug | replace("-", "_") | py_str }},
        description="The database the service uses.",
    )
    db_user: str = Field(
        default={{ cookiecutter.project_slug | replace("-", "_") | py_str }},
        description="The role the service connects as.",
    )
    db_password: SecretStr = Field(
        default="",
        validate_default=True,  # a SecretStr too
        description="That role's password; never logged or shown (a Secret in production).",
    )
    db_pool_size: int = Field(
        default=5,
        gt=0,
        description="Connections each worker keeps open.",
    )
    db_max_overflow: int = Field(
        default=5,
        ge=0,
        description="Connections a worker may open beyond the pool at busy times.",
    )
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for a free connection before it fails (503).",
    )
    db_pool_recycle: int = Field(
        default=1800,
        gt=0,
        description="Seconds after which a connection is replaced, before a proxy or firewall drops it.",
    )
    db_connect_timeout: int = Field(
        default=3,
        ge=2,
        description="Seconds to wait for PostgreSQL to accept a connection (libpq's least is 2).",
    )
{%- endif %}


@lru_cache
def get_settings() -> Settings:
    """The settings for this process; cached so the environment is read once."""
    return Settings()
