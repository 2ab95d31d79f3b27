"""{{ cookiecutter.project_slug }}: the service's Python package."""
