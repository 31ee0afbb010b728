#!/bin/sh
# Runs validate.mjs (deploy/kubernetes/ and docker/compose.yaml against their
# schemas, then against NETPOLQ_BIN) with the Node.js packages of
# package-lock.json, installed with `npm ci` into node_modules/ when they are
# missing or stale. Exits 77 (CTest's "skipped") when Node.js 18+ or npm is
# not installed (scripts/deps --with node installs them), and 1 when the
# installation fails.
# Usage: validate.sh NETPOLQ_BIN
set -eu
deploy_dir=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: node and npm are not installed (scripts/deps --with node)"
    exit 77
fi
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
    echo "SKIP: node $(node --version) is older than 18"
    exit 77
fi

# node_modules is reinstalled when the lock file changes; a stamp holds the
# lock's hash. flock keeps two runs (ctest -j) from installing at once.
install() {
    want=$(sha256sum "$deploy_dir/package-lock.json" | cut -d' ' -f1)
    stamp="$deploy_dir/node_modules/.netpolq-lock-sha256"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "installing the deployment checks' packages into $deploy_dir/node_modules (npm ci)"
    (cd "$deploy_dir" && npm ci --no-audit --no-fund --ignore-scripts \
        --loglevel=error) || return 1
    echo "$want" >"$stamp"
}

if command -v flock >/dev/null 2>&1; then
    exec 9>"$deploy_dir/node_modules.lock"
    flock 9
fi
if ! install; then
    echo "FAIL: npm ci could not install the deployment checks' packages"
    exit 1
fi
if command -v flock >/dev/null 2>&1; then
    flock -u 9
    exec 9>&-
fi

exec node "$deploy_dir/validate.mjs" "$@"
