#!/bin/bash
# SYN rate limits per source prefix (`xdpct synlimit`, `--syn-limit`): a
# SYN flood from one /24 is answered only up to its bucket (burst + rate
# over the flood's time) and the rest is dropped and counted, while real
# clients of another prefix connect, every one; the limit changes and goes
# at run time without a reload, a reload without the option keeps it,
# status shows it, and every CLI error is one line with the right status.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P=8080
RATE=50 BURST=20

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
lab_up attacker
xdpct_attach "$IF_SRVA" $P --syn-limit $RATE/$BURST >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
pass attach_with_limit
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $P --backlog 1024 --timeout 300
wait_port "$NS_SRV" $P 10 || die "tcppeer serve did not listen" server
X() { in_srv timeout 20 "$XDPCT" "$@"; }
st() { X stats "$IF_SRVA" -j 2>/dev/null | json_num "$1"; }
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")

out=$(X synlimit show "$IF_SRVA")
assert_eq show_text "$out" "$RATE SYNs/s, burst $BURST, per /24 (IPv4) and /64 (IPv6) source prefix"
out=$(X synlimit show "$IF_SRVA" -j)
assert_eq show_json "$out" "{\"rate\":$RATE,\"burst\":$BURST,\"prefix4\":24,\"prefix6\":64}"
X status "$IF_SRVA" -j | grep -q "\"syn_limit\":{\"rate\":$RATE," && pass status_json || fail status_json "no syn_limit"
X status "$IF_SRVA" | grep -q "syn limit  $RATE SYNs/s" && pass status_text || fail status_text "no syn limit line"

# flood FROM_NET COUNT RATE: spoofed SYNs from the attacker's link; the
# frames that reached the server in DELIVERED, the time in FLOOD_S
flood() {
	local drop0
	drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
	in_ns "$NS_ATK" timeout 40 "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst $SRVA4 --dport $P \
		--src-net "$1" --count "$2" --rate "$3" --timeout 30 --seed $$ >"$LAB_TMP/flood.j" 2>&1 ||
		die "synflood failed: $(cat "$LAB_TMP/flood.j")" flood
	DELIVERED=$(diff_num "$(json_num sent <"$LAB_TMP/flood.j")" \
		"$(diff_num "$(link_tx_dropped "$NS_ATK" "$IF_ATK")" "$drop0")")
	FLOOD_S=$(grep -o '"elapsed_ms":[0-9.]*' "$LAB_TMP/flood.j" | cut -d: -f2)
}

# ---- a flood from one /24 while real clients of another connect ----
tx0=$(st tx_synack) dr0=$(st drop_syn_rate)
t0=$(date +%s%N)
( flood 10.206.7.0/24 30000 15000; echo "$DELIVERED $FLOOD_S" >"$LAB_TMP/flood.res" ) &
FLOOD_PID=$!
LAB_PIDS+=("$FLOOD_PID")
sleep 0.3
in_ns "$NS_ATK" timeout 60 "$TCPPEER" connect --addr $SRVA4 --port $P --up 20k --down 20k \
	--count 20 --parallel 4 --timeout 10 --json >"$LAB_TMP/clients.j" 2>&1
ok=$(grep -c '"ok":true' "$LAB_TMP/clients.j")
wait_pid "$FLOOD_PID" 60
t1=$(date +%s%N)
read -r delivered flood_ms <"$LAB_TMP/flood.res"
tx=$(diff_num "$(st tx_synack)" "$tx0")
dr=$(diff_num "$(st drop_syn_rate)" "$dr0")
# the flood's bucket: BURST, then RATE a second while it lasted (its own
# time, bounded above by the whole section's), plus the 20 clients' SYNs
secs=$(((t1 - t0) / 1000000000 + 1))
max_tx=$((BURST + RATE * secs + 20 + 5))
note "flood: $delivered SYNs delivered in ${flood_ms} ms, $tx answered (at most $max_tx; the clients' 20 SYNs among them, the flood's $((tx - 20))), $dr dropped by the limit; clients $ok/20"
assert_eq clients_all_connected "$ok" 20
assert_ge flood_delivered "${delivered:-0}" 20000
assert_le flood_answered_within_bucket "$tx" "$max_tx"
assert_ge flood_answered_burst "$tx" $((BURST + 20))
assert_eq flood_rest_dropped "$((tx + dr))" "$((delivered + 20))"

# ---- reload without the option keeps the limit ----
out=$(X reload "$IF_SRVA" 2>&1) || fail reload "$out"
assert_eq reload_keeps "$(X synlimit show "$IF_SRVA")" "$RATE SYNs/s, burst $BURST, per /24 (IPv4) and /64 (IPv6) source prefix"

# ---- off at run time: the next flood is answered in full ----
out=$(X synlimit off "$IF_SRVA" 2>&1)
[[ "$out" == *"SYN limit of $IF_SRVA: off"* ]] && pass off_said || fail off_said "$out"
assert_eq show_off "$(X synlimit show "$IF_SRVA" -j)" null
tx0=$(st tx_synack) dr0=$(st drop_syn_rate)
flood 10.206.8.0/24 3000 10000
assert_eq off_all_answered "$(diff_num "$(st tx_synack)" "$tx0")" "$DELIVERED"
assert_eq off_none_dropped "$(diff_num "$(st drop_syn_rate)" "$dr0")" 0

# ---- set at run time, other prefix lengths: a /16 shares one bucket ----
out=$(X synlimit set "$IF_SRVA" 1/100 --prefix 16,48 2>&1) || fail set_runtime "$out"
tx0=$(st tx_synack)
flood 10.207.0.0/16 3000 10000
# 100 at once, and one a second while the flood lasted (0.3 s unless slowed)
tx=$(diff_num "$(st tx_synack)" "$tx0")
assert_ge prefix16_one_bucket "$tx" 100
assert_le prefix16_one_bucket_max "$tx" $((100 + ${FLOOD_S%.*} / 1000 + 1))

# ---- errors: one line, exit 2 for usage, 1 otherwise ----
err_case() { # NAME WANT_RC ARGS..
	local name=$1 want=$2 out rc
	shift 2
	out=$(X "$@" 2>&1)
	rc=$?
	if [[ $rc -eq $want && $(wc -l <<<"$out") -eq 1 ]]; then pass "$name"; else
		fail "$name" "rc $rc (want $want): $out"
	fi
}
err_case err_bad_rate 2 synlimit set "$IF_SRVA" fast
err_case err_zero_rate 2 synlimit set "$IF_SRVA" 0
err_case err_bad_burst 2 synlimit set "$IF_SRVA" 10/0
err_case err_bad_prefix 2 synlimit set "$IF_SRVA" 10 --prefix 4
err_case err_prefix_with_off 2 synlimit off "$IF_SRVA" --prefix 24
err_case err_unknown_action 2 synlimit enable "$IF_SRVA"
err_case err_not_attached 1 synlimit show "$IF_SRV"
err_case err_attach_bad_limit 2 attach "$IF_SRV" --ports $P --syn-limit 10/x
err_case err_attach_prefix_alone 2 attach "$IF_SRV" --ports $P --syn-limit-prefix 24

lab_finish
