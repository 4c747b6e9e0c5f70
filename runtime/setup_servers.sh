#!/usr/bin/env bash
# The servers of the scale-out backends and their tests: redis-server, PostgreSQL and nginx
# from Debian. Installed with apt when missing and when we may; otherwise the scale-out
# tests skip and say which package is missing. No system service is started: the tests and
# `bench.load --replicas` run their own on loopback.
set -uo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
    || missing+=(postgresql)
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "installing ${missing[*]} for the scale-out backends (apt)"
    if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}") >/dev/null; then
        # Debian starts the packaged services on install; the tests run their own.
        for service in "${missing[@]}"; do
            if command -v service >/dev/null; then service "$service" stop >/dev/null 2>&1; fi
        done
        exit 0
    fi
fi
echo "warning: missing ${missing[*]} (apt-get install ${missing[*]}); the scale-out tests will skip" >&2
