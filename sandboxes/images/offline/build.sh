#!/usr/bin/env bash
# Build the sandbox image with no container registry: a minimal Debian rootfs made by debootstrap
# from the machine's own apt mirror, then `docker import`. Idempotent: skips when the image exists,
# and reuses the cached rootfs tarball when only the image was lost.
#
#   build.sh [TAG]            TAG defaults to m1agent-sandbox:<VERSION>
#   M1AGENT_SANDBOX_CACHE     where the rootfs tarball is kept (default /var/cache/m1agent)
#   M1AGENT_SANDBOX_PACKAGES  extra Debian packages, comma-separated (e.g. git,build-essential)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
version="$(cat "$here/../VERSION")"
tag="${1:-m1agent-sandbox:$version}"
cache="${M1AGENT_SANDBOX_CACHE:-/var/cache/m1agent}"
extra="${M1AGENT_SANDBOX_PACKAGES:-}"
suite="bookworm"
packages="python3${extra:+,$extra}"
key="$(echo "$suite $packages $version" | sha256sum | cut -c1-12)"
tarball="$cache/sandbox-rootfs-$key.tar"
uid=1000

log() { echo "[sandbox image] $*"; }

if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag already present"
    exit 0
fi

# The mirror apt already uses here: the first Debian archive URI in the apt sources.
apt_mirror() {
    local uri
    uri="$( { grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}';
              grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } \
            | grep -v -- '-security' | grep -E '/debian/?$' | head -n1 || true)"
    [ -n "$uri" ] || { echo "[sandbox image] no Debian mirror found in the apt sources" >&2; exit 1; }
    echo "$uri"
}

if [ ! -s "$tarball" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "[sandbox image] the offline build needs root (debootstrap); run as root or 'docker pull python:3.12-slim'" >&2
        exit 1
    fi
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "installing debootstrap"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    fi
    mkdir -p "$cache/debs"
    rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
    # debootstrap mounts proc and sys inside while it works: never delete through a live mount.
    cleanup() { umount -R "$rootfs/proc" "$rootfs/sys" 2>/dev/null || true; rm -rf --one-file-system "$rootfs"; }
    trap cleanup EXIT
    mirror="$(apt_mirror)"
    log "debootstrap $suite (minbase + $packages) into $rootfs"
    debootstrap --variant=minbase --include="$packages" --cache-dir="$cache/debs" \
        "$suite" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -n 40 "$cache/debootstrap.log" >&2; exit 1; }
    [ -x "$rootfs/usr/bin/python3" ] || { echo "[sandbox image] debootstrap left no python3" >&2; exit 1; }
    log "trimming and adding the sandbox user (uid $uid)"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
        "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
        "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
    echo "sandbox:x:$uid:$uid:sandbox:/work:/bin/bash" >>"$rootfs/etc/passwd"
    echo "sandbox:x:$uid:" >>"$rootfs/etc/group"
    echo "sandbox:!:19000:0:99999:7:::" >>"$rootfs/etc/shadow"
    ln -sf python3 "$rootfs/usr/bin/python"  # what python:3.12-slim users and other tools expect
    mkdir -p "$rootfs/work"
    chown "$uid:$uid" "$rootfs/work"
    tar -C "$rootfs" --numeric-owner --one-file-system -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
    cleanup
    trap - EXIT
fi

log "docker import $tarball as $tag"
docker import \
    --change "USER $uid:$uid" \
    --change "WORKDIR /work" \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/work" \
    --change 'CMD ["sleep", "infinity"]' \
    --change "LABEL m1agent.image=$version" \
    "$tarball" "$tag" >/dev/null
log "built $tag ($(docker image inspect "$tag" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"
