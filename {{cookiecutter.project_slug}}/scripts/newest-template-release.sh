#!/usr/bin/env sh
# Prints the newest release (the highest vX.Y.Z tag) of the template this service
# was made from, as .cruft.json names it. `make template-check` and
# `make template-update` compare and update against it, so a service goes from one
# release of the template to the next, never to the template's unreleased main.
set -eu

PYTHON=${PYTHON:-python3}
if [ ! -f .cruft.json ]; then
    echo "error: no .cruft.json: this service was not made with cruft; link it to the template" \
        "with: .venv/bin/cruft link <template-url> --checkout <release>" >&2
    exit 1
fi
template=$("$PYTHON" -c 'import json; print(json.load(open(".cruft.json"))["template"])')
# The template's address is data: after `--`, git never reads it as an option.
case $template in
-*)
    echo "error: .cruft.json's template ($template) is not a repository address" >&2
    exit 1
    ;;
esac
newest=$(git ls-remote --tags --refs --sort=-version:refname -- "$template" 'refs/tags/v*' \
    | sed -n 's#^.*refs/tags/\(v[0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*\)$#\1#p' | head -n 1)
if [ -z "$newest" ]; then
    echo "error: $template has no release tag (vX.Y.Z) to update to" >&2
    exit 1
fi
echo "$newest"
