#!/usr/bin/env sh
# Pin and hash requirements*.txt from requirements*.in, for every platform: the
# locks keep the markers of packages that only some systems need (colorama on
# Windows), so `--require-hashes` installs work everywhere. `make lock` runs it.
#
# A lock is committed and copied into the image, so it must never carry an index
# URL, a find-links option or a credential: uv writes none unless told to (the
# --emit-* options), and a lock that has one anyway is not written.
set -eu

UV=${UV:-uv}
PYTHON_VERSION=${PYTHON_VERSION:?set PYTHON_VERSION, e.g. 3.13}
{%- if cookiecutter.package_manager == "pip" %}
# The private index pip installs from, if any, is the one to lock from.
if [ -z "${UV_DEFAULT_INDEX:-}" ] && [ -n "${PIP_INDEX_URL:-}" ]; then
    UV_DEFAULT_INDEX=$PIP_INDEX_URL
    export UV_DEFAULT_INDEX
fi
{%- endif %}
# Lines that name an index or a package source, or a URL with a user or password.
LEAKS='^ *(-i|-f|--index-url|--extra-index-url|--find-links|--trusted-host|--no-index)( |=|$)|://[^/ ]*@'

for name in requirements requirements-dev; do
    work=$(mktemp)
    trap 'rm -f "$work"' EXIT
    # Start from the current lock, so uv keeps its pins unless the .in file moved.
    # A universal lock needs no interpreter of the target version: never download one.
    cp "$name.txt" "$work"
    "$UV" pip compile --quiet --no-python-downloads --universal --generate-hashes --no-header \
        --python-version "$PYTHON_VERSION" --output-file "$work" "$name.in"
    # Line numbers only: the lines may hold a token.
    leaks=$(grep -nE "$LEAKS" "$work" | cut -d: -f1 | tr '\n' ' ') || true
    if [ -n "$leaks" ]; then
        echo "error: the new $name.txt would name an index or a credential (lines $leaks" \
            "of uv's output; an --emit-* setting in uv's configuration?); $name.txt is unchanged." >&2
        exit 1
    fi
    {
        echo "# Locked by \`make lock\` from $name.in: every package pinned, with hashes."
        echo "# Do not edit by hand: change $name.in and run \`make lock\`."
        cat "$work"
    } >"$name.txt"
done
