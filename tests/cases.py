"""The values the tests try, in one place: what the rules accept and refuse, the
edges where the portal's form and the rules could part, and the combinations
every bake test runs over. Adding an option adds its examples here."""

from __future__ import annotations

from tests.helpers import CHOICES, template_module

rules = template_module("rules")


def one_of(key: str) -> str:
    """The message for a value not among ``key``'s choices: every one, default first."""
    return "must be one of " + ", ".join(repr(value) for value in CHOICES[key])


# key -> values the rules accept; a choice key's are its choices.
VALID = {
    "project_name": ["My Service", 'Zoë\'s "quoted" service: v2 #1', "x" * rules.MAX_TEXT],
    "project_slug": ["my-service", "a", "svc2", "1password-sync", "a" * 63],
    "description": ["", "One line, with punctuation: yes! {braces} & <tags>."],
    "author_name": ["Platform Team", "Zoë Ångström"],
    "author_email": ["platform@example.com", "first.last+tag@sub.example.co.uk"],
    **CHOICES,
    "port": ["1024", "8000", "65535"],
    "app_uid": ["1000", "1001", "65534"],
    "app_gid": ["1000", "65534"],
    "base_image": [
        "python:3.13-slim",
        "registry.example.com:5000/mirror/python:3.13-slim",
        "localhost/python@sha256:" + "0" * 64,
        "[::1]:5000/python:3.13-slim",
    ],
    "dockerfile_frontend": ["", "docker/dockerfile:1", "mirror.example.com/docker/dockerfile:1.9"],
    "uv_image": [
        "ghcr.io/astral-sh/uv:0.13.8",
        "mirror.example.com:5000/astral/uv:0.14.0@sha256:" + "f" * 64,
    ],
}

# key -> (bad value, words the message must contain); a choice key needs no entry.
INVALID = {
    "project_name": [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        (" padded", "must not start or end with spaces"),
        ("two\nlines", "one line"),
        ("tab\there", "one line"),
        ("bell\x07", "control characters"),
        ("x" * (rules.MAX_TEXT + 1), f"at most {rules.MAX_TEXT}"),
    ],
    "project_slug": [
        ("", "DNS-1123 label"),
        ("My-Service", "lowercase"),
        ("my_service", "DNS-1123 label"),
        ("-leading", "starting and ending"),
        ("trailing-", "starting and ending"),
        ("a" * 64, "1-63"),
        ("../escape", "DNS-1123 label"),
    ],
    "description": [("line\nbreak", "one line")],
    "author_name": [("", "must not be empty")],
    "author_email": [
        ("nope", "name@example.com"),
        ("a@b", "email"),
        ("a b@c.de", "email"),
        ("bell\x07@example.com", "email"),
        ("null\x00@example.com", "email"),
    ],
    **{key: [("not-a-choice", one_of(key))] for key in CHOICES},
    "python_version": [("3.10", one_of("python_version")), ("3", "one of")],
    "port": [
        ("80", "non-root user, which cannot bind ports below 1024"),
        ("1023", "1024 to 65535"),
        ("65536", "1024 to 65535"),
        ("http", "whole number"),
        ("8000.0", "whole number"),
        ("-1", "whole number"),
        ("\uff18\uff10\uff18\uff10", "whole number"),  # fullwidth digits, not ASCII
    ],
    "app_uid": [("0", "not root"), ("999", "1000 to 65534"), ("65535", "1000 to 65534")],
    "app_gid": [("0", "not root"), ("abc", "whole number")],
    "base_image": [
        ("Python:3.13", "Docker image reference"),
        ("python:3.13 slim", "Docker image reference"),
        ("", "Docker image reference"),
        ("python@sha256:short", "Docker image reference"),
    ],
    "dockerfile_frontend": [("docker/Dockerfile:1", "Docker image reference")],
    "uv_image": [
        ("uv image", "uv image reference"),
        ("ghcr.io/astral-sh/uv:latest", "tagged with uv's version"),
        ("ghcr.io/astral-sh/uv", "tagged with uv's version"),
    ],
}


# Values near the edges of each rule, where the portal's form and the rules could part:
# (key, value, accepted).
EDGES = [
    ("project_name", "trailing\u00a0", False),
    ("project_name", "\u2028", False),
    ("project_name", "tab\tinside", False),
    ("project_name", "é" * rules.MAX_TEXT, True),
    ("description", " ", False),
    ("author_email", "zoë@exämple.com", True),
    ("author_email", "a@b.c.", False),
    ("port", " 8000", False),
    ("port", "08000", False),
    ("port", "8000.5", False),
    ("app_uid", "1000", True),
    ("app_gid", "65535", False),
    ("base_image", "python:3.13-slimé", False),
    ("base_image", "a" * 255 + ":tag", True),
    ("base_image", "a" * 256 + ":tag", False),
    ("base_image", "registry.example.com:5000/" + "a" * 230 + ":3.13", False),
    ("uv_image", "ghcr.io/astral-sh/uv:0.13.8@sha256:" + "a" * 64, True),
    ("uv_image", "ghcr.io/astral-sh/uv:0.13", False),
    ("dockerfile_frontend", "", True),
]
# Every value both the portal and the rules judge.
TABLE = [
    *((key, value) for key, values in VALID.items() for value in values),
    *((key, value) for key, cases in INVALID.items() for value, _ in cases),
    *((key, value) for key, value, _ in EDGES),
]
# base_image against python_version: (image, version, accepted).
PYTHON_TAGS = [
    ("python:3.12-slim", "3.13", False),
    ("python:3.13.1-slim-bookworm", "3.13", True),
    ("python:3.13", "3.13", True),
    ("python:3.131", "3.13", False),
    ("mirror.example.com/python:3.11-alpine", "3.13", False),
    ("python:3.11@sha256:" + "0" * 64, "3.11", True),
    ("python:3.12@sha256:" + "0" * 64, "3.11", False),
    ("python:slim", "3.13", True),
    ("company/base:2024.10", "3.13", True),
    ("python:5000/python:3.12", "3.14", False),
    # Every offered version against an image tagged for each of them: the form
    # states the tag rule once per version.
    *(
        (f"python:{tag}-slim", version, tag == version)
        for version in CHOICES["python_version"]
        for tag in CHOICES["python_version"]
    ),
]


# What the bake tests run over, by readable id: the defaults, every other value
# of every choice key, and the free-form keys changed from their defaults.
COMBINATIONS = {
    "defaults": {},
    **{f"{key}:{value}": {key: value} for key, values in CHOICES.items() for value in values[1:]},
    # The database with the other installer and without tracing (database:postgresql
    # above has the defaults): both pass their own tests against a real PostgreSQL.
    "postgresql-uv-untraced": {
        "database": "postgresql",
        "package_manager": "uv",
        "tracing": "none",
    },
    "port-and-user": {"port": "9000", "app_uid": "2000", "app_gid": "3000"},
    "no-syntax-line": {"dockerfile_frontend": ""},
    "mirrored-base-image": {
        "base_image": "registry.example.com/mirror/python:3.13-slim@sha256:" + "a" * 64
    },
    "quotes-in-free-text": {
        "project_name": 'O\'Brien "Quotes" & Co: {braces} #1',
        "description": 'A description with "quotes", \\backslashes\\ and key: value # no comment',
        "author_name": "Zoë Ångström — Équipe",
    },
    "unicode-and-long-free-text": {
        "project_name": "Ünïcödé 😀 サービス, " + "long " * 33 + "name ending in \\",
        "description": "'''triple''' and \"\"\"quotes\"\"\" are fine: [x] {y} *z* `code`",
        "author_email": "o'brien+svc@example.co.uk",
    },
}

# Offline builders cannot fetch a Dockerfile frontend image, so the image tests'
# bakes omit the `# syntax=` line (test_bake checks that the default bakes it).
NO_FRONTEND = {"dockerfile_frontend": ""}
