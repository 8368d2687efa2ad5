#!/bin/bash
# Real TCP through the shield, IPv4 (FAMILY=6: IPv6, see e2e_ipv6.sh).
# Server (backlog 4096) in the server ns with xdpct attached to its veth;
# tcppeer and curl clients; checks data integrity, the TCP options both
# ends negotiated, and that the kernel itself never saw a SYN.
FAMILY=${FAMILY:-4}
TEST_NAME=${TEST_NAME:-ipv$FAMILY}
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
N_SEQ=5  # sequential 1 MB each way
N_PAR=8  # concurrent handshakes, 4 at a time
if ((FAMILY == 4)); then
	SADDR=$SRV4 URLHOST=$SRV4 IPHDR=40
	# SYN or FIN flags
	CAPF="tcp port $PORT and (tcp[13] & 3 != 0)"
else
	SADDR=$SRV6 URLHOST="[$SRV6]" IPHDR=60
	# libpcap cannot index tcp[] over IPv6: TCP flags at 40 + 13
	CAPF="ip6 and tcp port $PORT and (ip6[53] & 3 != 0)"
fi

need_build "$XDPCT" "$TCPPEER" "$BUILD/mapfill"
lab_up

if ! xdpct_attach "$IF_SRV" "$PORT" >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
pass attach

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$PORT" --backlog 4096 \
	--info "$LAB_TMP/server.j"
wait_port "$NS_SRV" "$PORT" 30 || die "tcppeer serve did not listen" server

CAP=0
if cap_start "$NS_SRV" "$IF_SRV" "$CAPF"; then CAP=1; else CAP_START_WHY=$CAP_WHY; fi

# -- transfers --
in_cli timeout 60 "$TCPPEER" connect --addr "$SADDR" --port "$PORT" --up 1m --down 1m \
	--count $N_SEQ --timeout 10 --json >"$LAB_TMP/client.j" 2>"$LAB_TMP/client.err"
rc=$?
n_ok=$(grep -c '"ok":true' "$LAB_TMP/client.j")
if ((rc == 0 && n_ok == N_SEQ)); then
	pass "transfer_1MB_x$N_SEQ"
else
	fail "transfer_1MB_x$N_SEQ" "rc $rc, $n_ok/$N_SEQ ok: $(grep -v '"ok":true' "$LAB_TMP/client.j" | head -n 1) $(head -c 200 "$LAB_TMP/client.err")"
fi

in_cli timeout 60 "$TCPPEER" connect --addr "$SADDR" --port "$PORT" --up 64k --down 256k \
	--count $N_PAR --parallel 4 --timeout 10 --json >"$LAB_TMP/client_par.j" 2>"$LAB_TMP/client_par.err"
rc=$?
n_ok=$(grep -c '"ok":true' "$LAB_TMP/client_par.j")
if ((rc == 0 && n_ok == N_PAR)); then
	pass "transfer_parallel_x$N_PAR"
else
	fail "transfer_parallel_x$N_PAR" "rc $rc, $n_ok/$N_PAR ok: $(grep -v '"ok":true' "$LAB_TMP/client_par.j" | head -n 1)"
fi

want=$("$TCPPEER" gen --bytes 1048576 | sha256sum | cut -d' ' -f1)
in_cli curl -sS --max-time 20 -o "$LAB_TMP/curl.bin" "http://$URLHOST:$PORT/1048576" 2>"$LAB_TMP/curl.err"
rc=$?
got=$(sha256sum <"$LAB_TMP/curl.bin" 2>/dev/null | cut -d' ' -f1)
if ((rc == 0)) && [[ "$got" == "$want" ]]; then
	pass curl_1MB_sha256
else
	fail curl_1MB_sha256 "curl rc $rc, sha256 $got, want $want: $(head -c 200 "$LAB_TMP/curl.err")"
fi
N_CONN=$((N_SEQ + N_PAR + 1))

# -- TCP options, as both ends see them --
WS_SRV=$(expected_wscale "$NS_SRV")
WS_CLI=$(expected_wscale "$NS_CLI")
MTU=$(link_mtu "$NS_SRV" "$IF_SRV")
MSS_TS=$((MTU - IPHDR - 12)) # MSS minus the 12-byte timestamp option
note "server wscale $WS_SRV, client wscale $WS_CLI, mtu $MTU, expected mss with TS $MSS_TS"

# check_info FILE SIDE SND_WSCALE RCV_WSCALE: every line ok, ts/sack/wscale
# on, window shifts and MSS as expected.
check_info() {
	local file=$1 side=$2 snd=$3 rcv=$4 line bad=
	local n=0
	while IFS= read -r line; do
		[[ -z "$line" ]] && continue
		n=$((n + 1))
		local v k
		for k in ts sack wscale; do
			v=$(json_val "$k" <<<"$line")
			[[ "$v" == true ]] || bad+="$k=$v "
		done
		v=$(json_val ok <<<"$line")
		[[ "$v" == true ]] || bad+="ok=$v "
		v=$(json_num snd_wscale <<<"$line")
		[[ "$v" == "$snd" ]] || bad+="snd_wscale=$v(want $snd) "
		v=$(json_num rcv_wscale <<<"$line")
		[[ "$v" == "$rcv" ]] || bad+="rcv_wscale=$v(want $rcv) "
		v=$(json_num snd_mss <<<"$line")
		[[ "$v" == "$MSS_TS" ]] || bad+="snd_mss=$v(want $MSS_TS) "
		[[ -n "$bad" ]] && break
	done < <(cat "$file")
	if ((n == 0)); then
		fail "tcp_info_$side" "no connection records in $file"
	elif [[ -n "$bad" ]]; then
		fail "tcp_info_$side" "$bad in: $line"
	else
		pass "tcp_info_$side"
	fi
}
# client: snd_wscale is what our SYN-ACK advertised (the kernel's own choice
# in the server ns); rcv_wscale is its own.
cat "$LAB_TMP/client.j" "$LAB_TMP/client_par.j" >"$LAB_TMP/clients.j"
check_info "$LAB_TMP/clients.j" client "$WS_SRV" "$WS_CLI"
# The server writes a record once the client has closed: wait for them.
srv_has() { [[ $(grep -c . "$LAB_TMP/server.j" 2>/dev/null) -ge $1 ]]; }
wait_until 30 srv_has "$N_CONN"
n_srv=$(grep -c . "$LAB_TMP/server.j" 2>/dev/null)
assert_eq server_saw_all_connections "${n_srv:-0}" "$N_CONN"
# server: rcv_wscale is what xdpct handed to the kernel (must equal what it
# advertised), snd_wscale the client's, decoded from the cookie; snd_mss the
# client's MSS decoded from the cookie.
check_info "$LAB_TMP/server.j" server "$WS_CLI" "$WS_SRV"

# The server's digest of each upload equals the client's (joined by seed).
bad=0
while IFS= read -r line; do
	seed=$(json_num seed <<<"$line")
	d=$(json_val up_digest <<<"$line")
	grep -q "\"seed\":$seed,.*\"up_digest\":\"$d\"" "$LAB_TMP/server.j" || bad=$((bad + 1))
done <"$LAB_TMP/clients.j"
assert_eq upload_digests_match_server "$bad" 0

# -- no SYN ever reached the kernel --
# The kernel never answered a SYN with a cookie of its own and never
# overflowed its queues:
for c in TcpExtSyncookiesSent TcpExtSyncookiesRecv TcpExtSyncookiesFailed \
	TcpExtListenOverflows TcpExtListenDrops; do
	assert_eq "nstat_$c" "$(nstat_get "$NS_SRV" "$c")" 0
done
# Direct proof: packet taps on the server veth run after XDP on ingress and
# see every skb the stack transmits, so a SYN that passed XDP or a SYN-ACK
# built by the kernel would show up. XDP_TX frames bypass both taps. FINs
# (same filter) prove the capture itself worked.
if ((CAP)) && cap_stop; then
	n_syn=$(grep -c 'Flags \[S' "$CAP_OUT")
	n_fin=$(grep -c 'Flags \[[^S]*F' "$CAP_OUT")
	if ((n_fin == 0)); then
		fail no_syn_in_server_stack "capture saw no FIN either: capture broken"
	else
		assert_eq no_syn_in_server_stack "$n_syn" 0
	fi
	((n_syn)) && note "SYNs seen by the stack: $(grep 'Flags \[S' "$CAP_OUT" | head -n 3)"
else
	# a capture that did not start or did not finish proves nothing
	fail no_syn_in_server_stack "${CAP_START_WHY:-$CAP_WHY}"
fi
note "TcpPassiveOpens $(nstat_get "$NS_SRV" TcpPassiveOpens) (reqsk handover counts as a passive open)"

# -- xdpct's view --
stats_snap "$IF_SRV" || fail stats "xdpct stats failed: $(head -c 200 "$LAB_TMP/stats.err")"
note "stats: $(tr -d '\n' <<<"$XSTATS" | head -c 2000)"
syn=$(xstat syn_seen)
assert_ge stats_syn_seen "$syn" "$N_CONN"
# every SYN ended in XDP_TX: none was passed on
assert_eq stats_tx_synack_eq_syn_seen "$(xstat tx_synack)" "$syn"
assert_ge stats_cookie_good "$(xstat cookie_good)" "$N_CONN"
assert_ge stats_tc_handoff "$(xstat tc_handoff)" "$N_CONN"
for c in tc_handoff_fail tc_no_listener drop_cookie_bad drop_cookie_stale pass_syn_tracked \
	drop_malformed drop_error; do
	assert_eq "stats_$c" "$(xstat $c)" 0
done
note "flow entries: $(flows_count "$IF_SRV")"

# -- one child per connection under concurrent handshakes --
# A cookie ACK and the client's first data segments arrive in one NAPI
# batch; TC runs for the whole batch before TCP processes any of it. If TC
# hands each packet a reqsk, the kernel builds a second child for the same
# tuple, finds the first in the established hash and drops that packet:
# the client retransmits (a 200 ms stall for a one-segment request).
# TcpPassiveOpens counts every child built, so it must equal connections.
N_BURST=300
po0=$(nstat_get "$NS_SRV" TcpPassiveOpens)
stats_snap "$IF_SRV"
ho0=$(xstat tc_handoff)
re0=$(xstat ct_reopen)
in_cli timeout 90 "$TCPPEER" connect --addr "$SADDR" --port "$PORT" --up 64k --down 1k \
	--count $N_BURST --parallel 8 --timeout 10 --json >"$LAB_TMP/burst.j" 2>&1
rc=$?
n_ok=$(grep -c '"ok":true' "$LAB_TMP/burst.j")
if ((rc == 0 && n_ok == N_BURST)); then pass "burst_${N_BURST}_parallel"; else
	fail "burst_${N_BURST}_parallel" "rc $rc, $n_ok/$N_BURST ok"
fi
po=$(diff_num "$(nstat_get "$NS_SRV" TcpPassiveOpens)" "$po0")
stats_snap "$IF_SRV"
ho=$(diff_num "$(xstat tc_handoff)" "$ho0")
# a client port used again while its old entry is in TIME_WAIT: that SYN
# goes to the kernel (which may hold the TIME_WAIT socket), not a cookie
re=$(diff_num "$(xstat ct_reopen)" "$re0")
assert_eq burst_one_child_per_connection "$po" "$N_BURST"
sum=
[[ -n "$ho" && -n "$re" ]] && sum=$((ho + re))
assert_eq burst_one_handoff_per_connection "$sum" "$N_BURST"
note "burst: client connections with retransmissions: $(grep -c '"retrans":[1-9]' "$LAB_TMP/burst.j"), slowest $(grep -o '"total_ms":[0-9.]*' "$LAB_TMP/burst.j" | cut -d: -f2 | sort -n | tail -n 1) ms"

# -- the client offers fewer (or more) options: each must come back as
# offered, through the cookie; a client without timestamps gets only MSS
# (as from Linux's own cookies) unless --cookie-nots-options --
# variant NAME SEED "sysctl=value ..." TS SACK WSCALE ECN MSS
variant() {
	local name=$1 seed=$2 sysctls=$3 ts=$4 sack=$5 ws=$6 ecn=$7 mss=$8 kv c s k v bad=
	for kv in $sysctls; do
		in_cli sh -c "echo ${kv#*=} > /proc/sys/net/ipv4/${kv%%=*}"
	done
	c=$(in_cli timeout 20 "$TCPPEER" connect --addr "$SADDR" --port "$PORT" --up 256k \
		--down 256k --seed "$seed" --timeout 10 --json 2>&1)
	for kv in $sysctls; do # back to the defaults of a fresh netns
		case ${kv%%=*} in
		tcp_ecn) v=2 ;;
		*) v=1 ;;
		esac
		in_cli sh -c "echo $v > /proc/sys/net/ipv4/${kv%%=*}"
	done
	wait_until 30 grep -q "\"seed\":$seed," "$LAB_TMP/server.j"
	s=$(grep "\"seed\":$seed," "$LAB_TMP/server.j")
	[[ "$(json_val ok <<<"$c")" == true ]] || bad+="client: $c; "
	[[ "$(json_val ok <<<"$s")" == true ]] || bad+="server record: ${s:-none}; "
	if [[ -z "$bad" ]]; then
		for k in ts sack wscale ecn; do
			case $k in
			ts) v=$ts ;; sack) v=$sack ;; wscale) v=$ws ;; ecn) v=$ecn ;;
			esac
			[[ "$(json_val $k <<<"$c")" == "$v" ]] || bad+="client $k=$(json_val $k <<<"$c") want $v; "
			[[ "$(json_val $k <<<"$s")" == "$v" ]] || bad+="server $k=$(json_val $k <<<"$s") want $v; "
		done
		[[ "$(json_num snd_mss <<<"$c")" == "$mss" ]] || bad+="client snd_mss=$(json_num snd_mss <<<"$c") want $mss; "
		[[ "$(json_num snd_mss <<<"$s")" == "$mss" ]] || bad+="server snd_mss=$(json_num snd_mss <<<"$s") want $mss; "
		if [[ "$ws" == true ]]; then
			[[ "$(json_num snd_wscale <<<"$c")" == "$WS_SRV" ]] || bad+="client snd_wscale=$(json_num snd_wscale <<<"$c"); "
			[[ "$(json_num snd_wscale <<<"$s")" == "$WS_CLI" ]] || bad+="server snd_wscale=$(json_num snd_wscale <<<"$s"); "
		else
			[[ "$(json_num snd_wscale <<<"$c")$(json_num rcv_wscale <<<"$s")" == 00 ]] || bad+="window scaling used; "
		fi
	fi
	if [[ -z "$bad" ]]; then pass "options_$name"; else fail "options_$name" "$bad"; fi
}
MSS=$((MSS_TS + 12))
variant no_timestamps 900001 "tcp_timestamps=0" false false false false "$MSS"
variant no_ts_no_sack 900002 "tcp_timestamps=0 tcp_sack=0" false false false false "$MSS"
variant ts_no_sack_no_wscale 900004 "tcp_sack=0 tcp_window_scaling=0" true false false false "$MSS_TS"
variant bare 900005 "tcp_timestamps=0 tcp_sack=0 tcp_window_scaling=0" false false false false "$MSS"
# tcp_ecn=1: the client asks for ECN; the server ns (tcp_ecn=2) accepts it
variant ecn 900006 "tcp_ecn=1" true true true true "$MSS_TS"
variant ecn_no_ts 900007 "tcp_ecn=1 tcp_timestamps=0" false false false false "$MSS"
if xdpct_srv reload "$IF_SRV" --ports "$PORT" --cookie-nots-options >"$LAB_TMP/reload.out" 2>&1; then
	variant nots_options_no_timestamps 900011 "tcp_timestamps=0" false true true false "$MSS"
	variant nots_options_no_ts_no_sack 900012 "tcp_timestamps=0 tcp_sack=0" false false true false "$MSS"
	variant nots_options_no_ts_no_wscale 900013 "tcp_timestamps=0 tcp_window_scaling=0" false true false false "$MSS"
	variant nots_options_ecn_no_ts 900017 "tcp_ecn=1 tcp_timestamps=0" false true true false "$MSS"
	variant nots_options_ecn 900016 "tcp_ecn=1" true true true true "$MSS_TS"
	xdpct_srv reload "$IF_SRV" --ports "$PORT" >"$LAB_TMP/reload.out" 2>&1 ||
		fail nots_options_off "$(head -c 300 "$LAB_TMP/reload.out")"
else
	fail nots_options_on "$(head -c 300 "$LAB_TMP/reload.out")"
fi
stats_snap "$IF_SRV"
assert_eq stats_after_variants_tc_handoff_fail "$(xstat tc_handoff_fail)" 0
assert_eq stats_after_variants_drop_cookie_bad "$(xstat drop_cookie_bad)" 0

# -- detach leaves nothing behind --
if xdpct_srv detach "$IF_SRV" >"$LAB_TMP/detach.out" 2>&1; then
	pass detach
else
	fail detach "$(head -c 200 "$LAB_TMP/detach.out")"
fi
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass detach_clean; else fail detach_clean "$WHY"; fi

# The server keeps working without the shield.
in_cli timeout 20 "$TCPPEER" connect --addr "$SADDR" --port "$PORT" --up 10k --down 10k \
	--timeout 5 --json >/dev/null 2>&1
rc=$?
check_rc after_detach_connect "$rc" "connection failed after detach"

lab_finish
