#!/bin/bash
# `make bench` runs this: micro (test_run), memory and scale, macro (veth
# lab), the tax on established traffic (bench/tax.sh), the middlebox
# (bench/proxy.sh: a router, xdpct's proxy ports against nftables SYNPROXY
# and plain forwarding), one queue against two (bench/queues.sh), then
# bench/report.py writes the results, the plot and the report.
#   QUICK=1   fewer rounds, rates and defenders (< 3 minutes), written to
#             build/bench/quick/ so that a check does not overwrite the
#             full results
#   BENCH_OUT results directory (default bench/results, or the quick one)
#   BENCH_MD  report file (default BENCHMARKS.md, or the quick one)
# Timings are reported, never asserted.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
QUICK=${QUICK:-0}
[[ $QUICK == 1 ]] || QUICK=0
if ((QUICK)); then
	OUT=${BENCH_OUT:-build/bench/quick/results}
	MD=${BENCH_MD:-build/bench/quick/BENCHMARKS.md}
	MICRO_ARGS="--rounds 3 --calls 1000 --repeat 50000"
	MEM_ARGS="--entries 1048576"
else
	OUT=${BENCH_OUT:-bench/results}
	MD=${BENCH_MD:-BENCHMARKS.md}
	MICRO_ARGS="--rounds 11 --calls 4000 --repeat 400000"
	MEM_ARGS="--entries 1048576"
fi

if ((EUID != 0)); then
	echo "bench: must run as root (BPF, network namespaces)" >&2
	exit 2
fi
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || exit 2
RAW=$(mktemp -d /tmp/xdpct-bench.XXXXXX) || exit 2
trap 'rm -rf "$RAW"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
mkdir -p "$OUT" "$(dirname "$MD")" || exit 2
T0=$(date +%s)
step() { echo "bench: $* ($(($(date +%s) - T0)) s)"; }

# Each step is a command line kept verbatim for the report.
MICRO_CMD="build/bench/micro $MICRO_ARGS --json $OUT/micro.json"
MEM_CMD="build/bench/mem $MEM_ARGS --json $OUT/memory.json"
MACRO_CMD="QUICK=$QUICK bench/macro.sh RAW_DIR"
printf '{"micro":"%s","memory":"%s","macro":"%s","make":"make bench%s"}\n' \
	"taskset -c 1 $MICRO_CMD" "$MEM_CMD" "$MACRO_CMD" "$( ((QUICK)) && echo ' QUICK=1')" >"$RAW/commands.json"

step "micro: BPF_PROG_TEST_RUN, xdpct next to the floors"
# one CPU: the program's cost, not the scheduler's
taskset -c 1 $MICRO_CMD || { echo "bench: micro failed" >&2; exit 1; }
# Where the time goes in the two paths with targets (full runs only).
if ((!QUICK)) && command -v perf >/dev/null; then
	step "micro profiles (perf)"
	# data: the repeat=N loop (no syscall per packet); SYN: repeat=1 calls
	for c in data_established:--calls:1:--repeat:5000000 syn_synack_linux:--calls:100000:--repeat:1; do
		IFS=: read -r c a1 v1 a2 v2 <<<"$c"
		taskset -c 1 perf record -q -e cpu-clock -F 20000 -o "$RAW/perf.micro.data" -- \
			build/bench/micro --only "$c" --rounds 3 "$a1" "$v1" "$a2" "$v2" \
			--json /dev/null >/dev/null 2>&1 &&
			perf report -i "$RAW/perf.micro.data" --stdio --no-children --sort sym \
				--percent-limit 1 2>/dev/null | grep '%' | head -n 25 >"$RAW/profile.micro.$c.txt"
		rm -f "$RAW/perf.micro.data"
	done
fi
step "memory: maps at 1M connections, one eviction pass"
$MEM_CMD || { echo "bench: mem failed" >&2; exit 1; }
step "macro: floods in a veth lab (kernel, nftables SYNPROXY, xdpct, floors)"
QUICK=$QUICK bench/macro.sh "$RAW/macro" || { echo "bench: macro failed" >&2; exit 1; }
step "tax: established traffic through the floor and xdpct"
if ((QUICK)); then TAX_ENV="PASSES=1 SIZE=256m PROFILE=0 PROG_STATS=0"; else TAX_ENV="PASSES=5"; fi
env $TAX_ENV OUT="$OUT/tax.json" bench/tax.sh || { echo "bench: tax failed" >&2; exit 1; }
step "proxy: a router, xdpct proxy ports against nftables SYNPROXY and plain forwarding"
if ((QUICK)); then PROXY_ENV="QUICK=1"; else PROXY_ENV=""; fi
env $PROXY_ENV OUT="$OUT/proxy.json" bench/proxy.sh || { echo "bench: proxy failed" >&2; exit 1; }
step "queues: one queue against two, floor_tx and xdpct"
QUICK=$QUICK bench/queues.sh "$RAW/queues" || { echo "bench: queues failed" >&2; exit 1; }
step "report"
python3 bench/report.py --raw "$RAW" --out "$OUT" --md "$MD" --quick "$QUICK" || exit 1
step "done: $MD, $OUT/"
