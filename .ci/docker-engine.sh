#!/usr/bin/env bash
# Make sure a Docker engine answers. Does nothing where one already does (a workstation with Docker);
# on a fresh Debian machine without one (run as root) it installs Debian's engine and starts it the way
# our machines allow: vfs storage, no iptables, no bridge (workspace containers use no network anyway).
set -euo pipefail

DOCKER=/usr/bin/docker # the client that matches Debian's engine (a newer one may sit in /usr/local/bin)
[ -x "$DOCKER" ] || DOCKER=$(command -v docker || true)
DOCKERD_LOG=${DOCKERD_LOG:-/tmp/glia-dockerd.log}

engine_answers() { [ -n "$DOCKER" ] && "$DOCKER" info >/dev/null 2>&1; }

if engine_answers; then
  echo "a Docker engine already answers"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "ERROR: no Docker engine answers. Start yours (e.g. 'sudo systemctl start docker'), or run this" >&2
  echo "script as root on Debian/Ubuntu to install and start one." >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
DOCKER=/usr/bin/docker
echo "starting dockerd (log: $DOCKERD_LOG)"
nohup dockerd --storage-driver=vfs --iptables=false --bridge=none >"$DOCKERD_LOG" 2>&1 &
for _ in $(seq 60); do
  engine_answers && break
  sleep 1
done
if ! engine_answers; then
  echo "ERROR: dockerd did not answer within 60 s; last lines of $DOCKERD_LOG:" >&2
  tail -n 40 "$DOCKERD_LOG" >&2 || true
  exit 1
fi
echo "Docker engine $("$DOCKER" version --format '{{.Server.Version}}') is running"
