#!/usr/bin/env bash
# The Docker image and compose files, built and run for real (tests/docker/check_image.py): a step of
# scripts/test. Needs root (dockerd, debootstrap) and Debian's docker.io, debootstrap and docker-compose,
# installed here when missing (AGENTGAUGE_SKIP_APT=1: only say so). The engine, its containers and its
# temp dirs are removed at the end; the debootstrap base is kept in ~/.cache/agentgauge-tests
# (AGENTGAUGE_TEST_CACHE) so later runs skip that minute or two.
#
#   tests/docker/run.sh [pytest arguments...]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

missing=()
command -v dockerd >/dev/null 2>&1 && [[ -x /usr/bin/docker ]] || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || /usr/bin/docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if ((${#missing[@]})); then
  if [[ ${AGENTGAUGE_SKIP_APT:-} == 1 || $EUID -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/docker/run.sh: missing ${missing[*]}: install them (apt-get install --no-install-recommends ${missing[*]})" >&2
    exit 1
  fi
  echo "tests/docker/run.sh: installing ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "tests/docker/run.sh: apt-get could not install ${missing[*]}" >&2; exit 1; }
fi
if [[ $EUID -ne 0 ]]; then
  echo "tests/docker/run.sh: dockerd and debootstrap need root" >&2
  exit 1
fi

exec .venv/bin/pytest -q -p no:cacheprovider tests/docker/check_image.py "$@"
