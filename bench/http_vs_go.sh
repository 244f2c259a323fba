#!/usr/bin/env bash
# HTTP/1.1 "hello" under wrk: gort's demos/demo_http (1 P) against Go's
# net/http (go/http/hello.go, GOMAXPROCS=1), side by side in one invocation.
# Each server is pinned to CPU 0 and wrk (one thread, 64 keep-alive
# connections) to CPU 1; the two servers alternate, BENCH_REPS times
# (default 3), and the medians and their ratio are printed as
# `name value unit` lines like every other benchmark.
#
#   bench/http_vs_go.sh DEMO_HTTP GO_HELLO
# Loopback only; every server it starts is stopped before it exits.
set -uo pipefail
gort_srv=$1; go_srv=${2:--}
reps=${BENCH_REPS:-3}; secs=${BENCH_HTTP_SECONDS:-3}
if ! command -v wrk >/dev/null; then
  echo "# http_vs_go: skipped, wrk is not installed (make bench installs it: apt-get install wrk)"; exit 0
fi
cpus=$(nproc); srv_cpu=0; cli_cpu=$((cpus > 1 ? 1 : 0))

wait_port() { # port: until something accepts on 127.0.0.1:port (at most ~5 s)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
one_run() { # name: requests/s of one wrk run against a fresh server
  local port pid rps
  port=$(free_port)
  case $1 in
    gort) taskset -c $srv_cpu "$gort_srv" --serve "$port" --procs 1 --seconds $((secs + 10)) >/dev/null 2>&1 & ;;
    go) GOMAXPROCS=1 taskset -c $srv_cpu "$go_srv" "$port" >/dev/null 2>&1 & ;;
  esac
  pid=$!
  if wait_port "$port"; then
    rps=$(taskset -c $cli_cpu wrk -t1 -c64 -d"${secs}s" "http://127.0.0.1:$port/" 2>/dev/null |
          awk '/^Requests\/sec:/ {print $2}')
  fi
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  echo "${rps:-0}"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

impls=(gort); [ "$go_srv" != - ] && [ -x "$go_srv" ] && impls+=(go)
declare -A runs
for _ in $(seq "$reps"); do
  for i in "${impls[@]}"; do runs[$i]+="$(one_run "$i") "; done
done
declare -A med
for i in "${impls[@]}"; do
  med[$i]=$(tr ' ' '\n' <<<"${runs[$i]}" | grep . | median)
  echo "http_hello_rps_$i ${med[$i]} req/s   # runs: ${runs[$i]}"
done
if [ -n "${med[go]:-}" ] && awk "BEGIN {exit !(${med[go]} > 0)}"; then
  awk "BEGIN {printf \"# http_hello gort/go %.2fx requests per second (target: >= 1.00x)\\n\", ${med[gort]} / ${med[go]}}"
fi
