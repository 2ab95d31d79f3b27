#!/bin/sh
# Carry the Dockerfile's download cache mount between CI runs.
#
#   scripts/buildkit-cache.sh export DIR   # after a build: the cache mount -> DIR
#   scripts/buildkit-cache.sh import DIR   # before a build: DIR -> the cache mount
#
# CI runners start with an empty BuildKit, and `--cache-to` exports layers but not
# the contents of cache mounts (moby/buildkit#1474). Keep DIR in the CI system's
# own cache between runs, and a build whose requirements changed downloads only
# what changed instead of everything. The mount is read from the Dockerfile, so
# both always name the same one. Uses `docker buildx build` when buildx is
# installed (the builder CI set up), else `docker build` with BuildKit.
set -eu

usage="usage: $0 export|import DIR"
[ $# -eq 2 ] || { echo "$usage" >&2; exit 2; }
action=$1
dir=$2
dockerfile="$(dirname "$0")/../Dockerfile"

mount=$(grep -o -m 1 -- '--mount=type=cache,[^ ]*' "$dockerfile" | sed 's/^--mount=//')
target=$(printf '%s\n' "$mount" | sed -n 's/.*target=\([^,]*\).*/\1/p')
base=$(sed -n 's/^FROM \([^ ]*\) AS base$/\1/p' "$dockerfile")
if [ -z "$mount" ] || [ -z "$target" ] || [ -z "$base" ]; then
    echo "$0: Dockerfile needs 'FROM <image> AS base' and a RUN --mount=type=cache,target=..." >&2
    exit 1
fi

if docker buildx version >/dev/null 2>&1; then
    build="docker buildx build"
else
    build="docker build"
    export DOCKER_BUILDKIT=1
fi
# A new value every run, so BuildKit runs the copy instead of reusing a cached one.
run_id="$(date +%s)-$$"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

case $action in
export)
    rm -rf "$dir"
    $build --quiet --build-arg RUN_ID="$run_id" --output "type=local,dest=$dir" \
        --file - "$scratch" <<EOF
FROM $base AS copy
ARG RUN_ID
RUN --mount=$mount mkdir /out && cp -a $target/. /out/
FROM scratch
COPY --from=copy /out /
EOF
    ;;
import)
    [ -d "$dir" ] || { echo "$0: nothing to import: $dir does not exist"; exit 0; }
    $build --quiet --build-arg RUN_ID="$run_id" --output "type=local,dest=$scratch/out" \
        --file - "$dir" <<EOF
FROM $base AS copy
ARG RUN_ID
RUN --mount=$mount --mount=type=bind,target=/seed cp -a /seed/. $target/ && touch /imported
FROM scratch
COPY --from=copy /imported /
EOF
    ;;
*)
    echo "$usage" >&2
    exit 2
    ;;
esac
