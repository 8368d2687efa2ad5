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
#     index: 4 of 4), a live slot (ages 0 and 1 of 4: 1/2), and one key,
#     the one of the cookie's slot (xdpct_config.key_sel), across rotations
#     too. E[accepted] = N * 2^-28 / 2; the check is accepted <= E +
#     6 sqrt(E) + 3 (Poisson tail below 1e-7 for E < 0.1). A stale slot is
#     refused before the hash: half of the verdicts are drop_cookie_stale
#     (within 6 standard deviations of N / 2, and up to 1% of N fewer: for
#     the tick or so after a slot boundary in which a CPU's cached clock
#     reading still lags (longer if a vCPU stalled), the next slot's
#     cookies are checked on the precise clock, live there, and hashed:
#     then 1/4 of the cookies are stale, not 1/2; seen: 9,025 fewer of
#     6.09M, a 0.77 s flood over one boundary).
#     Such a bound alone cannot see a weakened cookie (with E ~ 0.002 a
#     cookie cut to 19 bits passes it most of the time): this part
#     measures; part 2 has the power.
#  2. Crafted cookies, exact counts. Both links are attached with
#     --cookie-slot 1 (slots of 2^30 ns, ~1.07 s), so that key rotations,
#     at least a slot apart, take seconds. The test reads keys[2], key_sel
#     (S << 1 | i: keys[i] signs the slots from S on, keys[i ^ 1] those
#     before) and slot_shift from the pinned config map (bpftool); flood
#     --crafted-every 3 makes with xdpct's own cookie code (bpf/cookie.h),
#     for one time slot X that it reports, under two keys A and B: one
#     valid cookie ACK of slot X or X - 1 (ages 0 and 1), one of a stale
#     slot (two older) and one near miss (a bit of the cookie, the client
#     ISN, the destination address or the TSecr option bits flipped) per 3
#     frames, half with timestamps and half without, to a protected port
#     without listener (a near miss to another address passes as not
#     this host's: pass_not_local), paced so that the veth ring drops none
#     (run again with a new source net if it did and the slot was not
#     imposed; else the counts are held within the drops). A cookie of slot c under key
#     K is accepted iff K is the key of slot c (counted in cookie_prev_key
#     when c < S), stale likewise, else bad: exact cookie_good,
#     drop_cookie_stale, drop_cookie_bad, cookie_prev_key, one flow entry
#     per accepted. The classes (key A age 0, A 1, B 0, B 1) come in the
#     proportions 8:4:2:1, so that these totals tell which classes were
#     accepted. Each flood is also held to the verdicts, per key and age,
#     of the slot it was meant for ("A0:prev A1:prev B0:bad B1:bad"):
#     - before any rotation: the key accepted at both ages, a key never
#       configured rejected;
#     - `xdpct config` rotates: the new key in the unused index, the old
#       one kept, S = the next slot or the one after, epoch + 1 (the test
#       rotates just past a slot's start, so that S - 1 is a whole slot
#       ahead); a second config before slot S is past is refused ("cookie
#       key kept", map unchanged);
#     - in slot S - 1 the old key's cookies are accepted at both ages and
#       counted in cookie_prev_key, the new key's rejected (not in force
#       yet); a real client connects right after the rotation, before the
#       new key's slot (its SYN-ACK signed with the old key), and after;
#     - a second rotation, from slot S + 1 (new first slot S'): the first
#       key is gone; in slot S' the old key's cookies of age 1 (slot
#       S' - 1) are accepted, those of age 0 REJECTED (one key per ACK:
#       the new key's slot), the new key's of age 0 accepted and of age 1
#       rejected; the first key's cookies are rejected; a real client
#       connects;
#     - `xdpct reload --cookie-nots-options` keeps the keys: cookies of
#       that layout are accepted;
#     - `xdpct run --key-rotate 1 --cookie-slot 1` rotates (epochs move),
#       never faster than the slots allow (each new key's first slot at
#       least two past the previous one's, at most two past now), keeps
#       --cookie-nots-options, and the previous key's cookies are accepted.
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

need_build "$XDPCT" "$TCPPEER" "$SYNFLOOD" "$BUILD/mapfill"
# bench/ is outside `make all`: build (or rebuild) the generator here
make -s -C "$ROOT" build/bench/flood >/dev/null 2>&1 || true
need_build "$FLOOD"
# attacker_lab, with slots of ~1.07 s
lab_up attacker
for ifc in "$IF_SRV" "$IF_SRVA"; do
	xdpct_attach "$ifc" "$PORT" --cookie-slot 1 >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err" ||
		die "xdpct attach $ifc failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
done
pass attach_both_links
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port "$PORT" --backlog 4096
wait_port "$NS_SRV" "$PORT" 5 || die "tcppeer serve did not listen" server
DMAC=$(link_mac "$NS_SRV" "$IF_SRVA")
[[ -n "$DMAC" ]] || die "no MAC for $IF_SRVA" setup

# A real connection through the attacked interface: cookie_good must move.
# settled: XDP has judged every frame it will get: xdp_packets of IF_SRVA
# unchanged over a quarter second (within 20 s)
settled() {
	local a b i
	b=$(in_srv timeout 10 "$XDPCT" stats "$IF_SRVA" -j 2>/dev/null | json_num xdp_packets)
	for ((i = 0; i < 80; i++)); do
		sleep 0.25
		a=$b
		b=$(in_srv timeout 10 "$XDPCT" stats "$IF_SRVA" -j 2>/dev/null | json_num xdp_packets)
		isnum "$b" && [[ "$a" == "$b" ]] && return 0
	done
	note "xdp_packets of $IF_SRVA still moving after 20 s"
}
# flow_verdicts: the verdicts of packets that met a flow entry, from the
# last stats_snap
flow_verdicts() {
	echo $(($(xstat pass_flow) + $(xstat drop_seq_window) + $(xstat drop_ack_window) +
		$(xstat drop_rst_window) + $(xstat drop_ct_invalid) + $(xstat drop_no_flow)))
}
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
# expect N BITS: E = N * 2^-bits / 2 (one slot in two is live, one key)
expect_of() { awk -v n="$1" -v b="$2" 'BEGIN { printf "%.6f\n", n / 2 ^ b / 2 }'; }
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
	note "$tag: $bits hash bits, one key: expected accepted $e, stale half the verdicts," \
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
	# the slot bits of random cookies: 2 of 4 stale, fewer just after a
	# slot boundary while a CPU's reading lags the precise clock
	# (bpf/synack.h check_cookie): up to 1% of the verdicts
	local sd lag
	sd=$(awk -v n="$v" 'BEGIN { printf "%d\n", 6 * sqrt(n) / 2 + 3 }')
	lag=$((v / 100))
	assert_ge "${tag}_stale_about_half" "$stale" $((v / 2 - sd - lag))
	assert_le "${tag}_stale_at_most_half" "$stale" $((v / 2 + sd))
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
	settled # the last frames through NAPI, before the counts are read
	sent=$(json_num sent <"$LAB_TMP/nots.j")
	lost=$(($(link_tx_dropped "$NS_ATK" "$IF_ATK") - drop0))
	note "ack flood (no options, packet socket): $(cat "$LAB_TMP/nots.j"); lost in the veth ring: $lost"
	judge ack_nots 28 "${sent:-0}" "$lost" $((N_NOTS * 9 / 10))
	control valid_cookie_accepted_after_nots_flood
fi

note "summary: TS flood accepted $ACC_TS of $delivered delivered; no-TS flood accepted ${ACCEPTED:-0} of $N_NOTS"

# ---- 3. crafted cookies: exact counts, key rotation ----

# cfg_read: the config map of IF_SRVA: CFG_FLAGS, KEYS0 and KEYS1 (keys[0],
# keys[1] as K0:K1), KEY_SEL, SEL_S (its first slot), KEY_NEW (the key of
# the slots from SEL_S on), KEY_OLD (of those before), SLOT_SHIFT, EPOCH
cfg_read() {
	local j
	j=$(config_json "$(pin_of "$IF_SRVA")")
	nth() { grep -o "\"$1\": *[0-9]*" <<<"$j" | sed -n "${2}p" | grep -o '[0-9]*$'; }
	CFG_FLAGS=$(json_num flags <<<"$j")
	KEYS0=$(nth k0 1):$(nth k1 1) # keys[0], keys[1]: first in struct xdpct_config
	KEYS1=$(nth k0 2):$(nth k1 2)
	KEY_SEL=$(json_num key_sel <<<"$j")
	SLOT_SHIFT=$(json_num slot_shift <<<"$j")
	EPOCH=$(json_num key_epoch <<<"$j")
	isnum "$CFG_FLAGS" && isnum "$KEY_SEL" && isnum "$SLOT_SHIFT" && isnum "$EPOCH" &&
		[[ "$KEYS0" =~ ^[0-9]+:[0-9]+$ && "$KEYS1" =~ ^[0-9]+:[0-9]+$ ]] || return 1
	SEL_S=$((KEY_SEL >> 1))
	if ((KEY_SEL & 1)); then KEY_NEW=$KEYS1 KEY_OLD=$KEYS0; else KEY_NEW=$KEYS0 KEY_OLD=$KEYS1; fi
}
rnd_u64() { od -An -N8 -tu8 /dev/urandom | tr -d ' '; }
# the data path's clock (CLOCK_MONOTONIC_COARSE) in slots of the config
slot_now() { timeout 10 "$FLOOD" --now --slot-shift "$SLOT_SHIFT" | json_num slot; }
wait_slot() { timeout 20 "$FLOOD" --now --slot-shift "$SLOT_SHIFT" --wait-slot "$1" >/dev/null; }
key_of_slot() { if (($1 >= SEL_S)); then echo "$KEY_NEW"; else echo "$KEY_OLD"; fi; }

# expected ROLE REL: the verdicts of a key's valid cookies of ages 0 and 1
# in slot S + REL (S: the first slot of the newest key). ROLE: new (the
# newest key), old (the other one in the map) or none.
expected() {
	case $1:$(($2 <= -1 ? -1 : ($2 >= 1 ? 1 : 0))) in
	new:-1) echo "bad bad" ;;
	new:0) echo "cur bad" ;;
	new:1) echo "cur cur" ;;
	old:-1) echo "prev prev" ;;
	old:0) echo "bad prev" ;;
	old:1) echo "bad bad" ;;
	*) echo "bad bad" ;;
	esac
}
# scenario ROLE_A ROLE_B REL: the SCENARIO line crafted() must report
scenario() {
	local a b
	read -r -a a <<<"$(expected "$1" "$3")"
	read -r -a b <<<"$(expected "$2" "$3")"
	echo "A0:${a[0]} A1:${a[1]} B0:${b[0]} B1:${b[1]}"
}
# at_slot N: --at-slot N when slot N has not begun or is the current one
at_slot() { local t; t=$(slot_now); isnum "$t" && ((t <= $1)) && echo "--at-slot $1"; }

NET_I=0
# crafted TAG KEY_A KEY_B [flood args]: a paced flood of crafted ACKs to
# CPORT for one time slot X, under KEY_A and KEY_B, valid cookies of ages 0
# and 1 (and stale ones two slots older), near misses. The verdicts follow
# from the config read before: the key of slot c is KEY_NEW from SEL_S on,
# KEY_OLD before. Sets SCENARIO ("A0:V A1:V B0:V B1:V", V = cur, prev or
# bad: the verdict of the valid cookies of key A/B, age 0/1) and X. Returns
# 3 when the flood missed the slot asked for (--at-slot), 1 on failure.
crafted() {
	local tag=$1 ka=$2 kb=$3 try rep rc sent drops valid stale_s near near_d at=0
	local near_s bad stale pc good prevk nl nf v e_good=0 e_stale=0 e_bad=0 e_prev=0 sel0
	local k a c nv ns nn ks names
	shift 3
	[[ " $* " == *" --at-slot "* ]] && at=1
	SCENARIO='' X=''
	# CFG_FRESH=1: the caller has just read the config (the slot is short)
	if [[ ${CFG_FRESH:-0} != 1 ]] && ! cfg_read; then
		fail "crafted_${tag}_config" "cannot read xdpct_config"
		return 1
	fi
	sel0=$KEY_SEL
	for try in 1 2 3; do
		NET_I=$((NET_I + 1))
		stats_snap "$IF_SRVA"
		B0=$(xstat drop_cookie_bad) S0=$(xstat drop_cookie_stale) P0=$(xstat pass_cookie)
		G0=$(xstat cookie_good) PK0=$(xstat cookie_prev_key) F0=$(flows_count "$IF_SRVA")
		NL0=$(xstat pass_not_local) FL0=$(flow_verdicts)
		rep=$LAB_TMP/crafted.$tag.$try.j
		in_atk timeout 30 "$FLOOD" --dev "$IF_ATK" --dmac "$DMAC" --dst "$SRVA4" \
			--dport "$CPORT" --src-net "10.$((209 + NET_I)).0.0/16" --mode ack \
			--rate "$CRAFT_RATE" --duration "$CRAFT_S" --crafted-every 3 \
			--cookie-key "$ka" --cookie-key2 "$kb" --slot-age 0,1 \
			--slot-shift "$SLOT_SHIFT" "$@" >"$rep" 2>&1
		rc=$?
		if ((rc == 3)); then
			note "crafted $tag: $(head -c 200 "$rep")"
			return 3
		fi
		if ((rc != 0)) || ! grep -q '"crafted"' "$rep"; then
			fail "crafted_${tag}_flood_ran" "flood exit $rc: $(head -c 300 "$rep")"
			return 1
		fi
		drops=$(json_num ring_drops <"$rep")
		((drops == 0 || at)) && break
		note "crafted $tag: the ring refused $drops frames: again with a new source net"
	done
	sent=$(json_num sent <"$rep") valid=$(json_num valid <"$rep")
	stale_s=$(json_num stale <"$rep") near=$(json_num near <"$rep")
	near_d=$(json_num near_daddr <"$rep") near_s=$(json_num near_stale <"$rep")
	X=$(json_num slot <"$rep")
	# the last frames through NAPI: until every delivered frame has its
	# verdict (else the next flood's counts would get them)
	all_judged() {
		stats_snap "$IF_SRVA" || return 1
		(($(xstat drop_cookie_bad) - B0 + $(xstat drop_cookie_stale) - S0 +
			$(xstat pass_cookie) - P0 + $(xstat pass_not_local) - NL0 +
			$(flow_verdicts) - FL0 >= sent - drops))
	}
	wait_until 20 all_judged || note "crafted $tag: not every frame judged after 20 s"
	stats_snap "$IF_SRVA"
	bad=$(($(xstat drop_cookie_bad) - B0))
	stale=$(($(xstat drop_cookie_stale) - S0))
	pc=$(($(xstat pass_cookie) - P0))
	good=$(($(xstat cookie_good) - G0))
	prevk=$(($(xstat cookie_prev_key) - PK0))
	nl=$(($(xstat pass_not_local) - NL0))
	nf=$(($(flows_count "$IF_SRVA") - F0))
	# a random tuple that repeats one accepted earlier in the flood (2^32
	# tuples, ~10k entries: a few % of floods) meets that entry, not the
	# cookie check: judged as a flow packet, and counted out of the classes
	coll=$(($(flow_verdicts) - FL0))
	v=$((bad + stale + pc + nl))
	if ! cfg_read || [[ "$KEY_SEL" != "$sel0" ]]; then
		fail "crafted_${tag}_config_unchanged" "key_sel $sel0 -> ${KEY_SEL:-?} during the flood"
		return 1
	fi
	# what each (key, age) must get: by the key of its slot
	ks=("$ka" "$kb") names=(A B)
	for k in 0 1; do
		for a in 0 1; do
			nv=$(json_num "v$k$a" <"$rep") ns=$(json_num "s$k$a" <"$rep")
			nn=$(json_num "n$k$a" <"$rep")
			c=$((X - a))
			if [[ "${ks[k]}" == "$(key_of_slot $c)" ]]; then
				e_good=$((e_good + nv))
				if ((c < SEL_S)); then
					e_prev=$((e_prev + nv)) SCENARIO+=" ${names[k]}$a:prev"
				else
					SCENARIO+=" ${names[k]}$a:cur"
				fi
			else
				e_bad=$((e_bad + nv)) SCENARIO+=" ${names[k]}$a:bad"
			fi
			# a stale slot is refused before the hash, whatever the key
			e_stale=$((e_stale + ns))
			e_bad=$((e_bad + nn))
		done
	done
	SCENARIO=${SCENARIO# }
	# near misses to another address: passed before any cookie check, as
	# not for this host (xdpct acts for its addresses only)
	e_bad=$((e_bad - near_d))
	# near misses whose flipped slot bit lands on a stale slot: stale
	e_bad=$((e_bad - near_s)) e_stale=$((e_stale + near_s))
	note "crafted $tag: slot $X (the newest key's first: $SEL_S), $SCENARIO; sent $sent" \
		"(valid $valid, stale $stale_s, near misses $near; $(json_num ts <"$rep") with" \
		"timestamps), ring drops $drops, repeated tuples $coll; drop_cookie_bad $bad, drop_cookie_stale $stale," \
		"pass_cookie $pc, pass_not_local $nl, cookie_good $good, cookie_prev_key $prevk," \
		"new flow entries $nf"
	# exact without ring drops or repeated tuples; with d of them each
	# count is in [want - d, want]
	within() { # NAME GOT WANT
		if isnum "$2" && (($2 <= $3 && $2 >= $3 - drops - coll)); then pass "$1"; else
			fail "$1" "got $2, want $3 (ring drops $drops, repeated tuples $coll)"
		fi
	}
	assert_le "crafted_${tag}_repeated_tuples_rare" "$coll" 5
	within "crafted_${tag}_verdicts_are_sent" "$v" "$sent"
	within "crafted_${tag}_accepted_as_keyed" "$good" "$e_good"
	within "crafted_${tag}_stale_as_keyed" "$stale" "$e_stale"
	within "crafted_${tag}_bad_as_keyed" "$bad" "$e_bad"
	within "crafted_${tag}_prev_key_counted" "$prevk" "$e_prev"
	within "crafted_${tag}_other_address_not_local" "$nl" "$near_d"
	assert_eq "crafted_${tag}_pass_is_good" "$pc" "$good"
	assert_eq "crafted_${tag}_one_entry_per_accepted" "$nf" "$good"
	assert_gt "crafted_${tag}_some_valid" "$valid" 1000
}

if xdpct_srv reload "$IF_SRVA" --ports "$PORT,$CPORT" >"$LAB_TMP/reload.out" 2>&1; then
	pass crafted_port_protected
else
	fail crafted_port_protected "$(head -c 300 "$LAB_TMP/reload.out")"
fi
cfg_read || die "cannot read the key from xdpct_config" crafted
assert_eq cookie_slot_1_is_2_pow_30_ns "$SLOT_SHIFT" 30
((CFG_FLAGS & 32)) && die "previous key already set before any rotation" crafted
K1=$KEY_NEW
K0=$(rnd_u64):$(rnd_u64) # never configured
crafted key1 "$K1" "$K0"
assert_eq crafted_key1_scenario "$SCENARIO" "$(scenario new none $((X - SEL_S)))"

# the real rotation path: `xdpct config` writes a fresh key
rotate() { # TAG
	if xdpct_srv config --ifname "$IF_SRVA" --ports "$PORT,$CPORT" >"$LAB_TMP/config.$1.out" 2>&1 &&
		cfg_read; then
		pass "rotate_$1"
	else
		fail "rotate_$1" "$(head -c 300 "$LAB_TMP/config.$1.out")"
	fi
}
e1=$EPOCH i1=$((KEY_SEL & 1))
# rotation 1 just past a slot's start t: less than KEY_BOUNDARY_MARGIN_NS
# (user/config.c) is left of the slot, so the new key signs from slot t + 2
# and all of slot t + 1, the old key's last, is ahead for the crafted flood
# (rotated anywhere, that slot was often over before the flood began)
wait_slot $(($(slot_now) + 1))
sleep 0.1
t0=$(slot_now)
rotate 1
t1=$(slot_now)
K2=$KEY_NEW S2=$SEL_S SEL2=$KEY_SEL
check rotate_1_new_key "key unchanged: $K2" test "$K2" != "$K1"
assert_eq rotate_1_old_key_kept "$KEY_OLD" "$K1"
assert_eq rotate_1_unused_index "$((KEY_SEL & 1))" $((i1 ^ 1))
assert_eq rotate_1_epoch_and_prev_flag "$EPOCH:$((CFG_FLAGS & 32))" "$((e1 + 1)):32"
note "rotation 1 between slots $t0 and $t1: the new key signs from slot $S2"
if isnum "$t0" && isnum "$t1" && ((S2 >= t0 + 1 && S2 <= t1 + 2)); then
	pass rotate_1_from_next_slot
else
	fail rotate_1_from_next_slot "first slot $S2, rotated between slots ${t0:-?} and ${t1:-?}"
fi
# a second rotation up to slot S2 is refused: the old key still signs
# cookies of valid slots, the new one's first slot is not past
xdpct_srv config --ifname "$IF_SRVA" --ports "$PORT,$CPORT" >"$LAB_TMP/config.again.out" 2>&1
rc=$?
ta=$(slot_now)
cfg_read
if isnum "$ta" && ((ta <= S2)); then
	got="$rc:$(grep -c 'cookie key kept' "$LAB_TMP/config.again.out"):$KEY_SEL:$KEYS0:$KEYS1:$EPOCH"
	if [[ $((SEL2 & 1)) == 1 ]]; then want_keys=$K1:$K2; else want_keys=$K2:$K1; fi
	assert_eq rotate_refused_within_slot "$got" "0:1:$SEL2:$want_keys:$((e1 + 1))"
else
	note "second config only in slot ${ta:-?} (first slot of the new key $S2): too late to be refused"
	skip rotate_refused_within_slot "the machine took over a slot between two commands"
	# it may have rotated: go on with the keys in the map
	K1=$KEY_OLD K2=$KEY_NEW S2=$SEL_S
fi
# until the new key's first slot, SYN-ACKs are still signed with the old key
ta=$(slot_now)
control valid_cookie_accepted_before_new_keys_slot
tb=$(slot_now)
if ! isnum "$ta" || ! isnum "$tb" || ((tb >= S2)); then
	note "the connection above ended in slot ${tb:-?}, the new key's first ($S2): not a test of the old key"
fi

# slot S2 - 1: the old key signs; its cookies get in, counted as previous;
# the new key's do not yet
args=$(at_slot $((S2 - 1)))
if [[ -n "$args" ]]; then
	# shellcheck disable=SC2086
	CFG_FRESH=1 crafted rot1_before "$K1" "$K2" $args
	rc=$?
	((rc == 0)) && assert_eq crafted_rot1_before_scenario "$SCENARIO" "$(scenario old new -1)"
	((rc == 3)) && skip crafted_rot1_before "slot $((S2 - 1)) missed"
else
	skip crafted_rot1_before "slot $((S2 - 1)) already over"
fi

control valid_cookie_accepted_after_rotation_1

# a second rotation, from slot S2 + 1 on: the first key is gone
wait_slot $((S2 + 1))
e2=$EPOCH
rotate 2
K3=$KEY_NEW S3=$SEL_S
assert_eq rotate_2_old_is_key2 "$KEY_OLD:$EPOCH" "$K2:$((e2 + 1))"
check rotate_2_key1_gone "keys $KEYS0 $KEYS1" test "$KEYS0" != "$K1" -a "$KEYS1" != "$K1"
assert_ge rotate_2_two_slots_after_1 "$S3" $((S2 + 2))
# slot S3: the new key signs; the old key's cookies of slot S3 - 1 get in,
# its cookies of slot S3 do not (one key per ACK)
args=$(at_slot "$S3")
# shellcheck disable=SC2086
crafted rot2_after "$K2" "$K3" $args
# missed: a later slot still shows the old key rejected in the new key's
(($? == 3)) && crafted rot2_after_late "$K2" "$K3"
if isnum "$X"; then
	note "rot2_after: slot S + $((X - S3)) (0 wanted)"
	assert_eq crafted_rot2_after_scenario "$SCENARIO" "$(scenario old new $((X - S3)))"
	if [[ $SCENARIO == A0:bad* ]]; then pass old_key_rejected_in_new_keys_slot; else
		fail old_key_rejected_in_new_keys_slot "$SCENARIO"
	fi
fi
crafted key1_two_back "$K1" "$K3"
isnum "$X" && assert_eq crafted_key1_two_back_scenario "$SCENARIO" "$(scenario none new $((X - S3)))"
control valid_cookie_accepted_after_rotation_2

# options for clients without timestamps: the other layout, the keys kept
sel_b=$KEY_SEL keys_b=$KEYS0:$KEYS1:$EPOCH
if xdpct_srv reload "$IF_SRVA" --ports "$PORT,$CPORT" --cookie-nots-options \
	>"$LAB_TMP/reload2.out" 2>&1 && cfg_read && ((CFG_FLAGS & 128)); then
	pass nots_options_set
else
	fail nots_options_set "flags ${CFG_FLAGS:-?}: $(head -c 300 "$LAB_TMP/reload2.out")"
fi
assert_eq reload_keeps_keys "$KEY_SEL:$KEYS0:$KEYS1:$EPOCH" "$sel_b:$keys_b"
crafted nots_options "$KEY_OLD" "$KEY_NEW" --nots-options
isnum "$X" && assert_eq crafted_nots_options_scenario "$SCENARIO" "$(scenario old new $((X - SEL_S)))"

# `xdpct run` rotates on its own schedule, as often as the slots allow and
# no more: a rotation needs the newest key's first slot past, and gives the
# new key a first slot after the current one
sel_read() { # "EPOCH KEY_SEL"
	local j
	j=$(config_json "$(pin_of "$IF_SRVA")")
	echo "$(json_num key_epoch <<<"$j") $(json_num key_sel <<<"$j")"
}
cfg_read
e_start=$EPOCH s_start=$SEL_S t_start=$(slot_now)
bg_ns "$NS_SRV" "$LAB_TMP/run.log" "$XDPCT" run "$IF_SRVA" --ports "$PORT,$CPORT" \
	--cookie-nots-options --cookie-slot 1 --key-rotate 1 --keep -v
RUN_PID=$BG_PID
pe=$e_start ps=$s_start steps='' bad_steps='' far=''
end=$((SECONDS + 20))
while ((SECONDS < end)) && kill -0 "$RUN_PID" 2>/dev/null; do
	read -r e ksel <<<"$(sel_read)"
	if isnum "$e" && isnum "$ksel" && ((e != pe)); then
		tn=$(slot_now)
		steps+="epoch $pe->$e first slot $ps->$((ksel >> 1)) (now $tn); "
		# every rotation moves the first slot by two at least
		(((ksel >> 1) - ps >= 2 * (e - pe))) || bad_steps+="epoch $pe->$e: first slot $ps->$((ksel >> 1)); "
		# and starts the new key within two slots of now
		isnum "$tn" && (((ksel >> 1) <= tn + 2)) || far+="first slot $((ksel >> 1)) at slot $tn; "
		pe=$e ps=$((ksel >> 1))
		# stop before the new key is in force: the flood below is for
		# its first slot, the previous key's last one then valid
		((pe - e_start >= 2)) && isnum "$tn" && ((ps > tn)) && break
	fi
	sleep 0.1
done
stop_pid "$RUN_PID"
t_end=$(slot_now)
note "run: $steps"
note "run log: $(grep -c 'cookie key rotated' "$LAB_TMP/run.log") rotations logged, $(head -c 300 "$LAB_TMP/run.log" | tr '\n' '|')"
assert_ge run_rotates "$((pe - e_start))" 2
assert_eq run_rotations_a_slot_apart "${bad_steps:-none}" none
assert_eq run_new_key_within_two_slots "${far:-none}" none
# over the whole run too: a new key starts at most two slots after now
if isnum "$t_end" && isnum "$t_start" && ((2 * (pe - e_start) <= t_end + 2 - s_start)); then
	pass run_rotation_rate
else
	fail run_rotation_rate "$((pe - e_start)) rotations from slot $s_start (first slot) to slot ${t_end:-?}"
fi
cfg_read
assert_eq run_rotation_keeps_nots_options "$((CFG_FLAGS & (128 | 32))):$SLOT_SHIFT" 160:30
args=$(at_slot "$SEL_S")
# shellcheck disable=SC2086
crafted run_keys "$KEY_OLD" "$KEY_NEW" --nots-options $args
(($? == 3)) && crafted run_keys_late "$KEY_OLD" "$KEY_NEW" --nots-options
if isnum "$X"; then
	note "run_keys: slot S + $((X - SEL_S)) (0 wanted)"
	assert_eq crafted_run_keys_scenario "$SCENARIO" "$(scenario old new $((X - SEL_S)))"
fi
control valid_cookie_accepted_after_rotations
lab_finish
