#!/bin/sh
# Starts NETPOLQ_BIN and validates its answers against openapi.yaml (see
# validate.mjs). Usage: validate.sh NETPOLQ_BIN [OPENAPI_YAML]
# Exits 77 when Node.js or npm is missing (see deps.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/deps.sh"
exec node "$here/validate.mjs" "$@"
