#!/usr/bin/env bash
# run-function.sh TARGET [ARGS...]: one function alone, as Knative runs it
# (make run-ingest, make run-reconcile): FUNCTION_TARGET=TARGET, PORT
# (default 8080) and REDIS_URL. Without REDIS_URL it uses a throw-away
# redis-server on 127.0.0.1:${LOCAL_REDIS_PORT:-6390}, started here unless
# one already answers there (so run-ingest and run-reconcile share it; the
# run that started it stops it). Without tokens the local ingest runs open
# (INGEST_AUTH=none, with a warning); the deployed one refuses to.
set -euo pipefail
target=$1
shift
export FUNCTION_TARGET=$target PORT=${PORT:-8080}
if [ "$target" = ingest ] && [ -z "${INGEST_TOKENS:-}${INGEST_TOKENS_FILE:-}${INGEST_AUTH:-}" ]; then
	export INGEST_AUTH=none
fi
if [ -z "${REDIS_URL:-}" ]; then
	port=${LOCAL_REDIS_PORT:-6390}
	export REDIS_URL=redis://127.0.0.1:$port/0
	if ! redis-cli -p "$port" ping >/dev/null 2>&1; then
		redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no >/dev/null &
		redis_pid=$!
		trap 'kill $redis_pid 2>/dev/null' EXIT
		trap 'exit 143' TERM
		trap 'exit 130' INT
		for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
		echo "REDIS_URL is not set: started redis-server on 127.0.0.1:$port for this run; its data goes when the run stops" >&2
	else
		echo "REDIS_URL is not set: using the redis-server already on 127.0.0.1:$port" >&2
	fi
fi
go run -ldflags "${LDFLAGS:-}" "./functions/$target/cmd" "$@"
