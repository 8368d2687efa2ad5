#!/bin/bash
# A full flow table: attach with a small --max-conns, fill both flow maps
# to their limit (and past it, round after round) with fake connections
# through the map API (build/mapfill), while an established download runs.
# Then: the table holds at most --max-conns entries, the LRU evicted the
# oldest fakes, the running download kept flowing and its entry stayed,
# and new connections (IPv4, IPv6) still complete.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
MAX=2048           # --max-conns
ROUNDS=8           # fills of MAX fake entries per family
BUSY_BYTES=16000000 # 8 s at the tbf rate below: runs through all rounds
BUSY_SPORT=40321
MAPFILL=$BUILD/mapfill

need_build "$XDPCT" "$TCPPEER" "$MAPFILL"
command -v curl >/dev/null || die "curl missing (make deps)" setup
lab_up

if ! xdpct_attach "$IF_SRV" "$PORT" --max-conns $MAX >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach
PIN4=$PIN_ROOT/$IF_SRV/xdpct_flows4
PIN6=$PIN_ROOT/$IF_SRV/xdpct_flows6
for m in "$PIN4" "$PIN6"; do
	me=$(bpftool map show pinned "$m" 2>/dev/null | grep -o 'max_entries [0-9]*' | grep -o '[0-9]*$')
	assert_eq "max_entries_$(basename "$m")" "${me:-?}" $MAX
done

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 4096
wait_port "$NS_SRV" $PORT 30 || die "no listener on $PORT" server
for a in "$SRV4" "$SRV6"; do # neighbours resolved, paths warm
	in_cli timeout 10 "$TCPPEER" connect --addr "$a" --port $PORT --up 1k --down 1k \
		--timeout 5 >/dev/null 2>&1 || die "warm-up connection to $a failed" warmup
done

count() { "$MAPFILL" count "$1" 2>/dev/null; }
busy_present() { "$MAPFILL" has "$PIN4" "$CLI4" $BUSY_SPORT "$SRV4" $PORT >/dev/null 2>&1; }
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
busy_over() { (($(size_of "$LAB_TMP/busy.bin") > $1)); }

# -- the established connection, opened before the fill --
# Paced by the server's qdisc, not by curl --limit-rate: curl reads in
# bursts, and the zero-window probes between them stall for seconds.
in_srv tc qdisc add dev "$IF_SRV" root tbf rate 16mbit burst 64kb limit 4mb ||
	die "tbf qdisc on $IF_SRV" busy_setup
bg_ns "$NS_CLI" "$LAB_TMP/busy.err" curl -sS --max-time 60 \
	--local-port $BUSY_SPORT -o "$LAB_TMP/busy.bin" "http://$SRV4:$PORT/$BUSY_BYTES"
BUSY_PID=$BG_PID
# flowing, and tracked
wait_until 30 busy_present || fail busy_entry_before "no flow entry for the download"
wait_until 30 busy_over 100000 ||
	fail busy_flowing_before "download did not start: $(head -c 200 "$LAB_TMP/busy.err")"

before4=$(count "$PIN4")
before6=$(count "$PIN6")
note "entries before the fill: flows4 $before4, flows6 $before6 (max $MAX each)"
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS

# -- fill, round after round: each round alone fills a table --
busy_lost=
max_seen=0
t0=$(date +%s%N)
for ((r = 0; r < ROUNDS; r++)); do
	for m in "$PIN4" "$PIN6"; do
		"$MAPFILL" fill "$m" $MAX --start $((r * MAX)) --lport 9 >"$LAB_TMP/fill.out" 2>&1 ||
			die "mapfill fill $m: $(cat "$LAB_TMP/fill.out")" fill
		n=$(count "$m")
		((n > max_seen)) && max_seen=$n
	done
	[[ -z "$busy_lost" ]] && ! busy_present && busy_lost=$r
	sleep 0.25
done
ms=$((($(date +%s%N) - t0) / 1000000))
after4=$(count "$PIN4")
after6=$(count "$PIN6")
note "entries after $ROUNDS rounds of $MAX per family ($ms ms): flows4 $after4, flows6 $after6; most seen $max_seen"

# The table is full, never over its size. An LRU map evicts in batches
# and keeps free nodes on per-CPU lists (up to 128 per CPU, kernel
# LOCAL_FREE_TARGET): full means within that of max_entries.
FULL_MIN=$((MAX - 160 * $(nproc)))
assert_le table_never_over_max "$max_seen" $MAX
assert_ge table_full_flows4 "$after4" $FULL_MIN
assert_ge table_full_flows6 "$after6" $FULL_MIN

# LRU: the first fakes are gone, the last ones are there
idx_last=$((ROUNDS * MAX - 1))
first4="198.18.0.0 1024"
last4="198.18.$(((idx_last >> 8) & 255)).$((idx_last & 255)) $((1024 + idx_last % 60000))"
if ! "$MAPFILL" has "$PIN4" $first4 "$SRV4" 9 >/dev/null; then pass lru_evicted_oldest; else
	fail lru_evicted_oldest "the first fake entry ($first4) is still in the table"
fi
if "$MAPFILL" has "$PIN4" $last4 "$SRV4" 9 >/dev/null; then pass lru_kept_newest; else
	fail lru_kept_newest "the last fake entry ($last4) is not in the table"
fi

# -- the established connection kept its entry and kept flowing --
if [[ -z "$busy_lost" ]] && busy_present; then pass busy_entry_survived_fill; else
	fail busy_entry_survived_fill "the download's entry was evicted (round ${busy_lost:-after the fill})"
fi
s1=$(size_of "$LAB_TMP/busy.bin")
if ! kill -0 "$BUSY_PID" 2>/dev/null; then
	fail busy_flowing_after_fill "the download ended before the fill did ($s1 bytes): nothing shown"
else
	sleep 1
	s2=$(size_of "$LAB_TMP/busy.bin")
	note "download: $s1 bytes when the fill ended, $s2 one second later"
	if ((s2 > s1 + 500000)) || [[ "$s2" == "$BUSY_BYTES" ]]; then pass busy_flowing_after_fill; else
		fail busy_flowing_after_fill "$((s2 - s1)) bytes in 1 s after the fill, want > 500000 at 2 MB/s"
	fi
fi
wait_pid "$BUSY_PID" 30
rc=$?
want=$("$TCPPEER" gen --bytes $BUSY_BYTES | sha256sum | cut -d' ' -f1)
got=$(sha256sum <"$LAB_TMP/busy.bin" | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$want" ]]; then pass busy_download_complete; else
	fail busy_download_complete "curl rc $rc, $(size_of "$LAB_TMP/busy.bin") bytes, sha256 ${got:0:12} want ${want:0:12}: $(head -c 200 "$LAB_TMP/busy.err")"
fi

in_srv tc qdisc del dev "$IF_SRV" root 2>/dev/null

# -- new connections into the full table --
stats_snap "$IF_SRV"
BASE_STATS=$XSTATS
N4=20 N6=10
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 64k --down 64k \
	--count $N4 --parallel 4 --timeout 10 --json >"$LAB_TMP/new4.j" 2>&1
rc=$?
ok=$(grep -c '"ok":true' "$LAB_TMP/new4.j")
if ((rc == 0 && ok == N4)); then pass new_connections_ipv4; else
	fail new_connections_ipv4 "rc $rc, $ok/$N4 ok: $(grep -v '"ok":true' "$LAB_TMP/new4.j" | head -c 200)"
fi
in_cli timeout 60 "$TCPPEER" connect --addr "$SRV6" --port $PORT --up 64k --down 64k \
	--count $N6 --parallel 2 --timeout 10 --json >"$LAB_TMP/new6.j" 2>&1
rc=$?
ok=$(grep -c '"ok":true' "$LAB_TMP/new6.j")
if ((rc == 0 && ok == N6)); then pass new_connections_ipv6; else
	fail new_connections_ipv6 "rc $rc, $ok/$N6 ok: $(grep -v '"ok":true' "$LAB_TMP/new6.j" | head -c 200)"
fi
stats_snap "$IF_SRV"
d_cookie=$(($(xstat pass_cookie) - $(json_num pass_cookie <<<"$BASE_STATS")))
d_handoff=$(($(xstat tc_handoff) - $(json_num tc_handoff <<<"$BASE_STATS")))
note "new connections: pass_cookie +$d_cookie, tc_handoff +$d_handoff"
assert_ge new_connections_through_cookies "$d_cookie" $((N4 + N6))

end4=$(count "$PIN4")
end6=$(count "$PIN6")
note "entries at the end: flows4 $end4, flows6 $end6"
assert_le table_still_within_max "$((end4 > end6 ? end4 : end6))" $MAX

lab_finish
