"""Settings, read once from environment variables prefixed with ``APP_``."""

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def project_version() -> str:
    """pyproject.toml's version, the one place it is written; the image has the file."""
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    return str(tomllib.loads(text)["project"].get("version", "unknown"))


class Settings(BaseSettings):
    """Every field can be set as ``APP_<FIELD>``, e.g. ``APP_LOG_LEVEL=DEBUG``."""

    model_config = SettingsConfigDict(env_prefix="APP_")

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


@lru_cache
def get_settings() -> Settings:
    """The settings for this process; cached so the environment is read once."""
    return Settings()
