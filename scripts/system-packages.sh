#!/usr/bin/env bash
# The Debian packages gongzhi needs beyond Python: pango and a Chinese font for the monthly report's PDF
# (WeasyPrint), with --browser Chromium for the browser tests (Playwright never downloads a browser here), and
# with --ops the servers the operations tests start on loopback: nginx, PgBouncer and Redis (docs/deployment.md).
# Installs what is missing when it can (root and apt-get); otherwise says what is missing and carries on:
# without them the PDF link answers 503 and the browser tests are skipped, the rest works.
# Used by `make demo` and scripts/test.sh.
set -uo pipefail

browser=0
ops=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    --ops) ops=1 ;;
  esac
done

has_cjk_font() { fc-list 2>/dev/null | grep -i 'noto.*cjk\|wqy' >/dev/null; }  # not -q: no SIGPIPE under pipefail
has_pango() { ldconfig -p 2>/dev/null | grep 'libpangoft2-1.0' >/dev/null; }
has_chromium() { [ -x /usr/bin/chromium ]; }
has_ops() { [ -x /usr/sbin/nginx ] && [ -x /usr/sbin/pgbouncer ] && [ -x /usr/bin/redis-server ]; }

packages="fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0"
missing=0
has_cjk_font && has_pango || missing=1
if [ "$browser" = 1 ]; then
  packages="chromium $packages"
  has_chromium || missing=1
fi
if [ "$ops" = 1 ]; then
  packages="$packages nginx-light pgbouncer redis-server"
  has_ops || missing=1
fi
[ "$missing" = 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  printf '\n==================== installing Debian packages: %s ====================\n' "$packages"
  # shellcheck disable=SC2086  # a list of package names
  DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages
  exit 0  # a failed install is reported by apt-get; what needs the packages says so again
fi
skipped=""
[ "$browser" = 1 ] && skipped=" and the browser tests are skipped"
echo "NOTE: missing Debian packages (install as root: apt-get install $packages); without them the monthly" \
     "report's PDF is unavailable$skipped" >&2
exit 0
