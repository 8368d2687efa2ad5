#!/bin/bash
# Random-cookie ACK floods against the cookie check, with the number of
# forgeries accepted set against what the cookie's hash bits predict.
#  1. ACKFLOOD_N (default 1M; `make soak`: 10M) ACKs with the timestamp
#     option, generated in the kernel by build/bench/flood (BPF_PROG_RUN,
#     live frames) from the attacker namespace: random source address,
#     port, seq, ack (the cookie), TSval and TSecr (the option bits).
#  2. ACKFLOOD_NOTS_N (default 100k; soak 10M) bare ACKs without options
#     (build/synflood, a packet socket): the other cookie layout.
# What a random ACK must hit (include/xdpct.h, bpf/synack.h check_cookie):
#   with TS:    27 hash bits; option bits from TSecr: window shift 0..14 or
#               15 (none), all 16 values valid: no factor; mss index: 8 of 8
#   without TS: 21 hash bits; option bits from the cookie: same, no factor
#   slot:       2 bits, ages 0 and 1 of 4 valid (1/2), ages 2, 3 stale
#   keys:       1, or 2 after a rotation (the previous key is tried too)
# So E[accepted] = N * keys * 2^-bits / 2, and E[stale] the same. The test
# asserts accepted <= E + 6 sqrt(E) + 3 (Poisson tail: for E < 0.1 the
# chance of more is below 1e-7), that no accepted forgery left more flow
# entries than it counts, and that the counters add up: every frame sent
# got one verdict (drop_cookie_bad, drop_cookie_stale or pass_cookie) or
# was refused by the server veth's full ring (sent - ring drops <= verdicts
# <= sent: the ring's count can include the attacker's own ARP/ND frames).
# A valid cookie through the same interface before and after each flood
# proves the check was live. Legit clients connect over the client link
# during the first flood.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
N=${ACKFLOOD_N:-1000000}
N_NOTS=${ACKFLOOD_NOTS_N:-100000}
RATE=${ACKFLOOD_RATE:-0}            # live frames: 0 = as fast as one CPU can
NOTS_RATE=${ACKFLOOD_NOTS_RATE:-300000}
MAX_S=${ACKFLOOD_MAX_S:-120}        # bound on the live flood's total duration
FLOOD=$BUILD/bench/flood
N_LEGIT=20

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD"
# bench/ is outside `make all`: build the generator on demand
if [[ ! -x "$FLOOD" ]]; then
	make -s -C "$ROOT" build/bench/flood >/dev/null 2>&1 || true
fi
need_build "$FLOOD"
attacker_lab "$PORT"
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRVA" setup

# Keys the check tries: the previous one too once a rotation set PREV_KEY.
cfg_flags=$(timeout 10 bpftool -j map dump pinned "$PIN_ROOT/$IF_SRVA/xdpct_config" 2>/dev/null |
	json_num flags)
isnum "$cfg_flags" || die "cannot read xdpct_config flags" setup
KEYS=$(((cfg_flags & 32) ? 2 : 1)) # XDPCT_CFG_PREV_KEY
note "cookie keys tried per ACK: $KEYS (config flags $cfg_flags)"

# A real connection through the attacked interface: cookie_good must move.
control() { # NAME
	local g0
	stats_snap "$IF_SRVA"
	g0=$(xstat cookie_good)
	in_atk timeout 20 "$TCPPEER" connect --addr "$SRVA4" --port "$PORT" --up 1k --down 1k \
		--timeout 5 >/dev/null 2>&1
	local rc=$?
	stats_snap "$IF_SRVA"
	assert_eq "$1" "$rc:$(($(xstat cookie_good) - g0))" "0:1"
}
control valid_cookie_accepted_before
N_CONTROL=1

# fsum KEY FILE...: sum of a numeric JSON field over the generator reports
fsum() {
	local k=$1 f s=0 v
	shift
	for f in "$@"; do
		v=$(json_num "$k" <"$f")
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
# bound E: floor(E + 6 sqrt(E) + 3)
bound_of() { awk -v e="$1" 'BEGIN { printf "%d\n", e + 6 * sqrt(e) + 3 }'; }
# expect N BITS: E = N * keys * 2^-bits / 2 (one slot check in two passes)
expect_of() { awk -v n="$1" -v b="$2" -v k="$KEYS" 'BEGIN { printf "%.6f\n", n * k / 2 ^ b / 2 }'; }
# tail E K: Poisson P(X >= K)
tail_of() {
	awk -v e="$1" -v k="$2" 'BEGIN { p = exp(-e); s = 0; for (i = 0; i < k; i++) { s += p; p *= e / (i + 1) }
		t = 1 - s; if (t < 1e-12) { t = 0; p = exp(-e); for (i = 0; i < k; i++) p *= e / (i + 1); t = p }
		printf "%.3g\n", t }'
}

# snap0, then judge: the verdict checks over the counters in between
snap0() {
	stats_snap "$IF_SRVA"
	B0=$(xstat drop_cookie_bad) S0=$(xstat drop_cookie_stale) P0=$(xstat pass_cookie)
	G0=$(xstat cookie_good) X0=$(xstat xdp_packets) F0=$(flows_count "$IF_SRVA")
}
judge() { # TAG BITS SENT RING_DROPS MIN_VERDICTS
	local tag=$1 bits=$2 sent=$3 rdrops=$4 bad stale pc good xp e bound nf v
	stats_snap "$IF_SRVA"
	bad=$(($(xstat drop_cookie_bad) - B0))
	stale=$(($(xstat drop_cookie_stale) - S0))
	pc=$(($(xstat pass_cookie) - P0))
	good=$(($(xstat cookie_good) - G0))
	xp=$(($(xstat xdp_packets) - X0))
	e=$(expect_of $((bad + stale + pc)) "$bits")
	bound=$(bound_of "$e")
	note "$tag: verdicts $((bad + stale + pc)) (xdp_packets $xp): drop_cookie_bad $bad," \
		"drop_cookie_stale $stale, pass_cookie $pc, cookie_good $good"
	note "$tag: $bits hash bits, $KEYS key(s): expected accepted $e, expected stale $e," \
		"bound $bound (P(X > bound) = $(tail_of "$e" $((bound + 1))))"
	# Each frame sent got a verdict or was refused by the full ring; the
	# ring's count may include a few of the attacker's own ARP/ND frames.
	v=$((bad + stale + pc))
	if ((v <= sent && v >= sent - rdrops)); then pass "${tag}_verdicts_add_up"; else
		fail "${tag}_verdicts_add_up" "verdicts $v, sent $sent, ring drops $rdrops"
	fi
	note "$tag: sent $sent - verdicts $v = $((sent - v)) frames refused by the ring (counted $rdrops)"
	assert_ge "${tag}_at_least_n" "$v" "$5"
	assert_le "${tag}_accepted_within_bound" "$good" "$bound"
	assert_le "${tag}_stale_within_bound" "$stale" "$bound"
	assert_eq "${tag}_pass_is_good" "$pc" "$good"
	nf=$(flows_count "$IF_SRVA")
	assert_le "${tag}_no_state_beyond_accepted" $((nf - F0)) "$good"
	ACCEPTED=$good
}

# ---- 1. ACKs with timestamps, live frames ----
snap0
bg_ns "$NS_CLI" "$LAB_TMP/legit.j" "$TCPPEER" connect --addr "$SRV4" --port "$PORT" \
	--up 16k --down 64k --count $N_LEGIT --interval 0.05 --timeout 15 --json
LEGIT_PID=$BG_PID
reports=()
# first run: a guess at ~1.5M/s delivered, at most 1 s; then sized by its rate
dur=$(awk -v n="$N" 'BEGIN { x = n / 1.5e6 + 0.1; if (x > 1) x = 1; printf "%.2f\n", x }')
delivered=0 i=0
start=$SECONDS
while ((delivered < N && SECONDS - start < MAX_S)); do
	i=$((i + 1))
	bg_ns "$NS_ATK" "$LAB_TMP/flood.$i.j" "$FLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
		--dport "$PORT" --src-net 10.201.0.0/16 --mode ack --rate "$RATE" --duration "$dur"
	wait_pid "$BG_PID" "$(awk -v d="$dur" 'BEGIN { printf "%d", d + 20 }')"
	rc=$?
	if ((rc != 0)) || ! grep -q '"delivered"' "$LAB_TMP/flood.$i.j"; then
		fail ack_ts_flood_ran "flood exit $rc: $(head -c 300 "$LAB_TMP/flood.$i.j")"
		break
	fi
	reports+=("$LAB_TMP/flood.$i.j")
	d=$(json_num delivered <"$LAB_TMP/flood.$i.j")
	delivered=$((delivered + d))
	# the next run: what is left at this run's rate, 10% over, at most 60 s
	dur=$(awk -v left=$((N - delivered)) -v d="$d" -v t="$dur" \
		'BEGIN { r = d / t; if (r < 1000) r = 1000; x = left / r * 1.1 + 0.2; if (x > 60) x = 60; printf "%.2f\n", x }')
done
wait_pid "$LEGIT_PID" 60
rc=$?
n_ok=$(grep -c '"ok":true' "$LAB_TMP/legit.j")
assert_eq "legit_${N_LEGIT}_during_ack_flood" "$rc:$n_ok" "0:$N_LEGIT"
sent=$(fsum sent "${reports[@]}")
drops=$(fsum ring_drops "${reports[@]}")
note "ack flood (TS, live frames): ${#reports[@]} run(s), sent $sent, ring drops $drops," \
	"delivered $delivered in $((SECONDS - start)) s"
for f in "${reports[@]}"; do note "  $(head -c 300 "$f")"; done
judge ack_ts 27 "$sent" "$drops" "$N"
ACC_TS=$ACCEPTED
control valid_cookie_accepted_after_ts_flood
N_CONTROL=$((N_CONTROL + 1))

# ---- 2. bare ACKs, no options ----
if ((N_NOTS > 0)); then
	snap0
	drop0=$(link_tx_dropped "$NS_ATK" "$IF_ATK")
	bg_ns "$NS_ATK" "$LAB_TMP/nots.j" "$SYNFLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
		--dport "$PORT" --src-net 10.201.0.0/16 --mode ack --count "$N_NOTS" --rate "$NOTS_RATE" \
		--timeout $((N_NOTS / 20000 + 30)) --seed $$
	wait_pid "$BG_PID" $((N_NOTS / 20000 + 40))
	rc=$?
	check_rc ack_nots_flood_ran "$rc" "$(head -c 300 "$LAB_TMP/nots.j")"
	sleep 0.2 # the last frames through NAPI
	sent=$(json_num sent <"$LAB_TMP/nots.j")
	lost=$(($(link_tx_dropped "$NS_ATK" "$IF_ATK") - drop0))
	note "ack flood (no options, packet socket): $(cat "$LAB_TMP/nots.j"); lost in the veth ring: $lost"
	judge ack_nots 21 "${sent:-0}" "$lost" $((N_NOTS * 9 / 10))
	control valid_cookie_accepted_after_nots_flood
fi

note "summary: TS flood accepted $ACC_TS of $delivered delivered; no-TS flood accepted ${ACCEPTED:-0} of $N_NOTS"
lab_finish
