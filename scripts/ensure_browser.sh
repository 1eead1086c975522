#!/usr/bin/env bash
# The dashboard's browser test drives Debian's Chromium (Playwright's own browser
# download cannot work offline). Install it when missing and we are allowed to.
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing chromium (Debian package) for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; browser tests will be skipped" >&2
else
  echo "warning: chromium not found; browser tests will be skipped (apt-get install chromium)" >&2
fi
exit 0
