#!/bin/sh
# Makes sure tests/openapi/node_modules matches package-lock.json, installing
# it with `npm ci` when it is missing or stale. Sourced by lint.sh and
# validate.sh. Exits 77 (CTest's "skipped") when Node.js 18+ or npm is not
# installed (scripts/deps --with node installs them), and 1 when the
# installation fails.
openapi_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node and npm are not installed (scripts/deps --with node)"
    exit 77
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "SKIP: node $(node --version) is older than 18"
    exit 77
fi

# A stamp of the lock file: node_modules is reinstalled when the lock
# changes. Two tests may start at once (ctest -j), so one installs while the
# other waits on the lock.
openapi_install() {
    want=$(sha256sum "$openapi_dir/package-lock.json" | cut -d' ' -f1)
    stamp="$openapi_dir/node_modules/.netpolq-lock-sha256"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "installing the OpenAPI tools into $openapi_dir/node_modules (npm ci)"
    (cd "$openapi_dir" && npm ci --no-audit --no-fund --ignore-scripts \
        --loglevel=error) || return 1
    echo "$want" >"$stamp"
}

if command -v flock >/dev/null 2>&1; then
    exec 9>"$openapi_dir/node_modules.lock"
    flock 9
fi
if ! openapi_install; then
    echo "FAIL: npm ci could not install the OpenAPI tools"
    exit 1
fi
if command -v flock >/dev/null 2>&1; then
    flock -u 9
    exec 9>&-
fi

# Redocly would otherwise try to reach the network for telemetry and
# update notices.
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true
