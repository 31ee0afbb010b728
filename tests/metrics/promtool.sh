#!/bin/sh
# Checks a real scrape of GET /metrics with Prometheus' own linter: starts
# netpolq, sends the walkthrough's requests and a few more with curl (so
# that every family has samples: requests, latencies, uploads, verdicts,
# batches), scrapes /metrics and pipes it into `promtool check metrics`,
# which fails on format errors and on naming problems (a counter without
# _total, a missing HELP, ...). Also checks that the families it expects are
# there and that the revision is the walkthrough's.
#
# Usage: promtool.sh NETPOLQ_BIN [SOURCE_DIR]
# Exits 77 (CTest: skipped) when promtool or curl is missing; promtool comes
# with Debian's prometheus package (scripts/deps --with promtool).
set -eu
bin=$1

for tool in promtool curl; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "promtool.sh: $tool is not installed; skipping" \
            "(scripts/deps --with promtool installs it)" >&2
        exit 77
    fi
done
src=${2:-$(cd "$(dirname "$0")/../.." && pwd)}
walk=$src/examples/walkthrough

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "promtool.sh: $*" >&2
    echo "--- netpolq's stderr:" >&2
    cat "$tmp/log" >&2
    exit 1
}

"$bin" --listen 127.0.0.1:0 2>"$tmp/log" &
pid=$!
# The readiness line names the address; wait up to 10 s for it.
tries=0
while ! grep -q 'listening on' "$tmp/log"; do
    kill -0 "$pid" 2>/dev/null || { pid=; fail "netpolq exited during start-up"; }
    tries=$((tries + 1))
    [ "$tries" -le 100 ] || fail "no readiness line after 10 s"
    sleep 0.1
done
base=$(sed -n 's/.*listening on \(http:\/\/[^ ]*\).*/\1/p' "$tmp/log" | head -n 1)
[ -n "$base" ] || fail "no address in the readiness line"

# call METHOD PATH [CURL_ARGS...]: one request; any status is fine here.
call() {
    method=$1
    path=$2
    shift 2
    curl -s -o /dev/null -X "$method" "$base$path" "$@" ||
        fail "$method $path: no answer"
}

query='{"from":{"namespace":"test-b","pod":"client-pod"},"to":{"namespace":"test-a","pod":"server-pod"},"port":80}'
json='Content-Type: application/json'
yaml='Content-Type: application/yaml'

call PUT /state -H "$yaml" --data-binary "@$walk/01-cluster.yaml"
call POST /reachability -H "$json" -d "$query"
for step in 02-default-deny-ingress 03-allow-client-ingress \
    04-default-deny-egress 05-allow-egress-to-server; do
    call POST /state -H "$yaml" --data-binary "@$walk/$step.yaml"
    call POST /reachability -H "$json" -d "$query"
done
call GET "/reachability?from=test-b/client-pod&to=test-a/server-pod&port=80"
call POST /reachability/batch -H "$json" -d "{\"trace\":false,\"queries\":[$query,$query]}"
call POST /reachability/batch -H "$json" -d "{\"queries\":[$query]}"
call POST /reachability/matrix -H "$json" -d '{"port":80}'
call GET /pods/test-a/server-pod/isolation
call GET /pods/test-a/nope/isolation
call GET /state -H 'If-None-Match: *'
call POST /state -H "$yaml" -d 'kind: ['
call DELETE /healthz
call GET /no/such/path
call GET /openapi.yaml

curl -sf "$base/metrics" >"$tmp/metrics" || fail "GET /metrics failed"
if ! promtool check metrics <"$tmp/metrics"; then
    echo "--- the scrape:" >&2
    cat "$tmp/metrics" >&2
    fail "promtool check metrics found problems"
fi
for family in netpolq_http_requests_total \
    netpolq_http_request_duration_seconds_bucket \
    netpolq_state_upload_duration_seconds_count netpolq_state_revision \
    netpolq_objects netpolq_verdicts_total netpolq_batch_queries_bucket \
    netpolq_build_info process_start_time_seconds; do
    grep -q "^${family}[{ ]" "$tmp/metrics" || fail "no $family in the scrape"
done
grep -q '^netpolq_state_revision 5$' "$tmp/metrics" ||
    fail "netpolq_state_revision is not 5 after the walkthrough"
grep -q '^netpolq_state_upload_duration_seconds_count 5$' "$tmp/metrics" ||
    fail "the five walkthrough uploads are not counted"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" -eq 0 ] || fail "netpolq exited with $status on SIGTERM"
echo "promtool.sh: the scrape passes promtool check metrics ($(wc -l <"$tmp/metrics") lines)"
