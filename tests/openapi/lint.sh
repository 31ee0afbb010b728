#!/bin/sh
# Lints openapi.yaml with Redocly CLI's recommended rules (structure,
# references, examples against their schemas). Errors fail; warnings are
# printed. Usage: lint.sh [OPENAPI_YAML]
# Exits 77 when Node.js or npm is missing (see deps.sh).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
spec=${1:-$here/../../openapi.yaml}
. "$here/deps.sh"
exec "$here/node_modules/.bin/redocly" lint "$spec"
