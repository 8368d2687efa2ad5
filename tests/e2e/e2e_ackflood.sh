#!/bin/bash
# ACK floods against the cookie check, through live frames.
#  1. Random cookies: ACKFLOOD_N (default 1M; `make soak`: 10M) ACKs with
#     the timestamp option, generated in the kernel by build/bench/flood
#     (BPF_PROG_RUN, live frames): random source address, port, seq, ack
#     (the cookie), TSval and TSecr (the option bits); and ACKFLOOD_NOTS_N
#     (default 100k; soak 10M) bare ACKs (build/synflood, a packet socket).
#     The number accepted is held against what the cookie predicts
#     (include/xdpct.h, bpf/synack.h check_cookie): 28 hash bits with or
#     without timestamps (option bits from TSecr: all 64 values valid; mss
#     index: 4 of 4), a live slot (ages 0 and 1 of 4: 1/2), 1 key (2 after
#     a rotation). E[accepted] = N * keys * 2^-28 / 2, E[stale] the same;
#     the check is accepted <= E + 6 sqrt(E) + 3 (Poisson tail below 1e-7
#     for E < 0.1). Such a bound alone cannot see a weakened cookie (with
#     E ~ 0.002 a cookie cut to 19 bits passes it most of the time): this
#     part measures; part 2 has the power.
#  2. Crafted cookies: the test reads the key from the pinned config map
#     (bpftool) and flood --crafted-every 3 makes, with xdpct's own cookie
#     code (bpf/cookie.h), one valid cookie ACK, one valid for a stale slot
#     and one near miss (a bit of the cookie, the client ISN, the
#     destination address or the TSecr option bits flipped) per 3 frames,
#     half with timestamps and half without, to a protected port without
#     listener, paced so that the veth ring drops none (run again with a
#     new source net if it did; after 3 tries the counts are held within
#     the drops). Exact: cookie_good = valid, drop_cookie_stale = stale,
#     drop_cookie_bad = near misses, one flow entry per valid. Then the real
#     rotation (`xdpct config`): the previous key's cookies are accepted and
#     counted in cookie_prev_key, a third key's are all bad, and after a
#     second rotation the first key's are too; `xdpct reload
#     --cookie-nots-options`: cookies of that layout are accepted; `xdpct
#     run --key-rotate 1` rotates, keeps the option, the previous key's
#     cookies are accepted.
# A valid cookie through the same interface (a real client) before and
# after proves the check was live. Legit clients connect over the client
# link during the first flood.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
CPORT=8081                          # crafted floods: protected, no listener
N=${ACKFLOOD_N:-1000000}
N_NOTS=${ACKFLOOD_NOTS_N:-100000}
RATE=${ACKFLOOD_RATE:-0}            # live frames: 0 = as fast as one CPU can
NOTS_RATE=${ACKFLOOD_NOTS_RATE:-300000}
MAX_S=${ACKFLOOD_MAX_S:-120}        # bound on the live flood's total duration
CRAFT_RATE=${ACKFLOOD_CRAFT_RATE:-100000}
CRAFT_S=${ACKFLOOD_CRAFT_S:-0.3}    # 30k frames: 10k valid, 10k stale, 10k near misses
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
# expect N BITS: E = N * keys * 2^-bits / 2 (one slot in two is live)
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
judge ack_ts 28 "$sent" "$drops" "$N"
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
	judge ack_nots 28 "${sent:-0}" "$lost" $((N_NOTS * 9 / 10))
	control valid_cookie_accepted_after_nots_flood
fi

note "summary: TS flood accepted $ACC_TS of $delivered delivered; no-TS flood accepted ${ACCEPTED:-0} of $N_NOTS"

# ---- 3. crafted cookies: exact counts, key rotation ----

# cfg_read: the config map of IF_SRVA: CFG_FLAGS, KEY_CUR, KEY_PREV (K0:K1)
cfg_read() {
	local j
	j=$(timeout 10 bpftool -j map dump pinned "$PIN_ROOT/$IF_SRVA/xdpct_config" 2>/dev/null)
	nth() { grep -o "\"$1\": *[0-9]*" <<<"$j" | sed -n "${2}p" | grep -o '[0-9]*$'; }
	CFG_FLAGS=$(json_num flags <<<"$j")
	KEY_CUR=$(nth k0 1):$(nth k1 1) # key_cur comes first in struct xdpct_config
	KEY_PREV=$(nth k0 2):$(nth k1 2)
	isnum "$CFG_FLAGS" && [[ "$KEY_CUR" =~ ^[0-9]+:[0-9]+$ && "$KEY_PREV" =~ ^[0-9]+:[0-9]+$ ]]
}
rnd_u64() { od -An -N8 -tu8 /dev/urandom | tr -d ' '; }

NET_I=0
# crafted TAG KEY WANT [flood args]: a paced flood of crafted ACKs to CPORT
# under KEY; WANT: cur (the current key), prev (the previous one) or none
# (a key the config does not hold). Each try has its own source net, so
# that no frame meets the flow entry of an earlier valid one.
crafted() {
	local tag=$1 key=$2 want=$3 try rep rc sent drops valid stale_s near
	local bad stale pc good prevk nf v e_good e_stale e_bad e_prev
	shift 3
	for try in 1 2 3; do
		NET_I=$((NET_I + 1))
		stats_snap "$IF_SRVA"
		B0=$(xstat drop_cookie_bad) S0=$(xstat drop_cookie_stale) P0=$(xstat pass_cookie)
		G0=$(xstat cookie_good) PK0=$(xstat cookie_prev_key) F0=$(flows_count "$IF_SRVA")
		rep=$LAB_TMP/crafted.$tag.$try.j
		in_atk timeout 30 "$FLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
			--dport "$CPORT" --src-net "10.$((209 + NET_I)).0.0/16" --mode ack \
			--rate "$CRAFT_RATE" --duration "$CRAFT_S" --crafted-every 3 \
			--cookie-key "$key" "$@" >"$rep" 2>&1
		rc=$?
		if ((rc != 0)) || ! grep -q '"crafted"' "$rep"; then
			fail "crafted_${tag}_flood_ran" "flood exit $rc: $(head -c 300 "$rep")"
			return 1
		fi
		drops=$(json_num ring_drops <"$rep")
		((drops == 0)) && break
		note "crafted $tag: the ring refused $drops frames: again with a new source net"
	done
	sent=$(json_num sent <"$rep") valid=$(json_num valid <"$rep")
	stale_s=$(json_num stale <"$rep") near=$(json_num near <"$rep")
	sleep 0.2 # the last frames through NAPI
	stats_snap "$IF_SRVA"
	bad=$(($(xstat drop_cookie_bad) - B0))
	stale=$(($(xstat drop_cookie_stale) - S0))
	pc=$(($(xstat pass_cookie) - P0))
	good=$(($(xstat cookie_good) - G0))
	prevk=$(($(xstat cookie_prev_key) - PK0))
	nf=$(($(flows_count "$IF_SRVA") - F0))
	v=$((bad + stale + pc))
	note "crafted $tag ($want key): sent $sent (valid $valid, stale $stale_s, near misses" \
		"$near; $(json_num ts <"$rep") with timestamps), ring drops $drops;" \
		"drop_cookie_bad $bad, drop_cookie_stale $stale, pass_cookie $pc," \
		"cookie_good $good, cookie_prev_key $prevk, new flow entries $nf"
	case $want in
	cur) e_good=$valid e_stale=$stale_s e_bad=$near e_prev=0 ;;
	prev) e_good=$valid e_stale=$stale_s e_bad=$near e_prev=$((valid + stale_s)) ;;
	*) e_good=0 e_stale=0 e_bad=$sent e_prev=0 ;;
	esac
	# exact without ring drops; with d drops each count is in [want - d, want]
	within() { # NAME GOT WANT
		if isnum "$2" && (($2 <= $3 && $2 >= $3 - drops)); then pass "$1"; else
			fail "$1" "got $2, want $3 (ring drops $drops)"
		fi
	}
	within "crafted_${tag}_verdicts_are_sent" "$v" "$sent"
	within "crafted_${tag}_accepted_are_valid" "$good" "$e_good"
	within "crafted_${tag}_stale_are_stale" "$stale" "$e_stale"
	within "crafted_${tag}_bad_are_near_misses" "$bad" "$e_bad"
	within "crafted_${tag}_prev_key_counted" "$prevk" "$e_prev"
	assert_eq "crafted_${tag}_pass_is_good" "$pc" "$good"
	assert_eq "crafted_${tag}_one_entry_per_accepted" "$nf" "$good"
	if [[ $want != none ]]; then
		assert_gt "crafted_${tag}_some_valid" "$valid" 1000
	fi
}

if xdpct_srv reload "$IF_SRVA" --ports "$PORT,$CPORT" >"$LAB_TMP/reload.out" 2>&1; then
	pass crafted_port_protected
else
	fail crafted_port_protected "$(head -c 300 "$LAB_TMP/reload.out")"
fi
cfg_read || die "cannot read the key from xdpct_config" crafted
((CFG_FLAGS & 32)) && die "previous key already set before any rotation" crafted
K1=$KEY_CUR
crafted key1 "$K1" cur

# the real rotation path: `xdpct config` writes a fresh key, the old one
# becomes the previous
rotate() { # TAG
	if xdpct_srv config --ifname "$IF_SRVA" --ports "$PORT,$CPORT" >"$LAB_TMP/config.out" 2>&1 &&
		cfg_read; then
		pass "rotate_$1"
	else
		fail "rotate_$1" "$(head -c 300 "$LAB_TMP/config.out")"
	fi
}
rotate 1
K2=$KEY_CUR
assert_eq rotate_1_prev_is_key1 "$KEY_PREV:$((CFG_FLAGS & 32))" "$K1:32"
check rotate_1_new_key "key unchanged: $K2" test "$K2" != "$K1"
crafted key1_prev "$K1" prev
crafted key2_cur "$K2" cur
K3=$(rnd_u64):$(rnd_u64)
crafted key3_unknown "$K3" none
rotate 2
assert_eq rotate_2_prev_is_key2 "$KEY_PREV" "$K2"
crafted key1_two_back "$K1" none

# options for clients without timestamps: the other layout, same key
if xdpct_srv reload "$IF_SRVA" --ports "$PORT,$CPORT" --cookie-nots-options \
	>"$LAB_TMP/reload2.out" 2>&1 && cfg_read && ((CFG_FLAGS & 128)); then
	pass nots_options_set
else
	fail nots_options_set "flags ${CFG_FLAGS:-?}: $(head -c 300 "$LAB_TMP/reload2.out")"
fi
crafted nots_options "$KEY_CUR" cur --nots-options

# `xdpct run` rotates on its own schedule and keeps the option
epoch() { timeout 10 bpftool -j map dump pinned "$PIN_ROOT/$IF_SRVA/xdpct_config" 2>/dev/null |
	json_num key_epoch; }
# shellcheck disable=SC2317 # called through wait_until
epoch_ge() { local e; e=$(epoch); isnum "$e" && ((e >= $1)); }
e0=$(epoch)
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRVA" --key-rotate 1 --keep
RUN_PID=$BG_PID
if isnum "$e0" && wait_until 15 epoch_ge $((e0 + 2)); then pass run_rotates; else
	fail run_rotates "key epoch $(epoch), was ${e0:-?}: $(head -c 300 "$LAB_TMP/run.log")"
fi
stop_pid "$RUN_PID"
cfg_read
assert_eq run_rotation_keeps_nots_options "$((CFG_FLAGS & (128 | 32)))" 160
crafted run_prev "$KEY_PREV" prev --nots-options
control valid_cookie_accepted_after_rotations
lab_finish
