#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine: install docker.io from Debian when dockerd is
# missing, start dockerd in the background when the socket is silent, then wait for `docker info`.
# Idempotent: every step is skipped when its result is already there.
set -euo pipefail

log() { echo "[setup docker] $*"; }

engine_answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_answers; then
    log "engine already running"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "[setup docker] no Docker engine and cannot install one (needs root on Debian/Ubuntu)." >&2
        echo "[setup docker] install Docker, start it, and rerun." >&2
        exit 1
    fi
    log "installing docker.io from the Debian archive"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
fi

if ! engine_answers; then
    if [ "$(id -u)" != 0 ]; then
        echo "[setup docker] dockerd is installed but not running; start it (e.g. 'sudo systemctl start docker')." >&2
        exit 1
    fi
    if [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        log "dockerd already starting (pid $(cat /var/run/docker.pid))"
    else
        log "starting dockerd in the background (log: /var/log/dockerd.log)"
        rm -f /var/run/docker.pid
        # setsid: the daemon must outlive this script and the test session that ran it.
        setsid nohup dockerd >/var/log/dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 1 120); do
        engine_answers && break
        sleep 0.5
    done
fi

if ! engine_answers; then
    echo "[setup docker] dockerd did not come up within 60 s; see /var/log/dockerd.log:" >&2
    tail -n 30 /var/log/dockerd.log >&2 || true
    exit 1
fi
log "engine ready: $(docker version --format '{{.Server.Version}}')"
