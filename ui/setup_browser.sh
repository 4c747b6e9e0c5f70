#!/usr/bin/env bash
# The browser for the UI tests: Debian's chromium, driven by Playwright through its path
# (Playwright's own browser download is not reachable from here). Installed with apt when
# missing and when we may; otherwise the browser tests skip and say why.
set -uo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null; then
    echo "installing chromium for the browser tests (apt)"
    if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; then
        exit 0
    fi
fi
echo "warning: no chromium (apt-get install chromium); the browser tests will skip" >&2
