#!/bin/bash
# Least privilege: xdpct with exactly the capabilities of its unit
# (contrib/xdpct@.service, CapabilityBoundingSet=), as uid 0 with every
# other capability dropped (setpriv), attaches and detaches, and `xdpct
# run` starts, re-executes itself on SIGHUP and detaches on SIGTERM. With
# any one of them dropped, attach fails with one line naming it and leaves
# nothing attached.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
UNIT=$ROOT/contrib/xdpct@.service
need_build "$XDPCT"
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[[ -n "$CAPS" ]] || die "no CapabilityBoundingSet= in $UNIT" unit_caps
note "unit capabilities: $CAPS"
lab_up
LAB_ATTACHED+=("$IF_SRV")

# setpriv's list: CAP_NET_ADMIN CAP_BPF -> -all,+net_admin,+bpf
caplist() {
	local c out=-all
	for c in "$@"; do
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	echo "$out"
}
# with_caps "CAP_A CAP_B" cmd...: in the server ns, those and no others
with_caps() {
	local l
	# shellcheck disable=SC2086 # a list of words
	l=$(caplist $1)
	shift
	in_srv setpriv --bounding-set="$l" --inh-caps="$l" --ambient-caps="$l" -- "$@"
}

# the set itself: the capabilities really are dropped (CapEff)
eff=$(with_caps "$CAPS" sh -c 'grep ^CapEff /proc/self/status' | awk '{print $2}')
want=0
for c in $CAPS; do
	n=$(grep -E "#define\s+$c\s" /usr/include/linux/capability.h | awk '{print $3}')
	isnum "$n" && want=$((want | (1 << n)))
done
assert_eq capeff_is_the_units "$((16#${eff:-0}))" "$want"

out=$(with_caps "$CAPS" "$XDPCT" attach "$IF_SRV" --ports $PORT 2>&1)
rc=$?
check_rc attach_with_unit_caps $rc "$out"
check xdp_attached "no XDP program on $IF_SRV after attach" \
	eval "in_srv ip -d link show dev '$IF_SRV' | grep -q prog/xdp"
out=$(with_caps "$CAPS" "$XDPCT" detach "$IF_SRV" 2>&1)
rc=$?
check_rc detach_with_unit_caps $rc "$out"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass detach_leaves_nothing; else fail detach_leaves_nothing "$WHY"; fi

# each capability of the set is needed: without it, one line naming it
for c in $CAPS; do
	rest=$(tr ' ' '\n' <<<"$CAPS" | grep -vx "$c" | tr '\n' ' ')
	with_caps "$rest" timeout 20 "$XDPCT" attach "$IF_SRV" --ports $PORT \
		>"$LAB_TMP/out" 2>"$LAB_TMP/err" </dev/null
	rc=$?
	why=
	((rc == 1)) || why+="exit status $rc, want 1; "
	[[ $(wc -l <"$LAB_TMP/err") == 1 ]] || why+="$(wc -l <"$LAB_TMP/err") lines on stderr; "
	grep -q "missing capability $c\b" "$LAB_TMP/err" || why+="does not name $c; "
	nothing_attached "$NS_SRV" "$IF_SRV" || why+="$WHY"
	if [[ -z "$why" ]]; then pass "without_${c,,}"; else
		fail "without_${c,,}" "${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
	fi
	in_srv "$XDPCT" detach "$IF_SRV" >/dev/null 2>&1
done

# xdpct run as the unit runs it: ready, SIGHUP re-executes in place, SIGTERM detaches
l=$(caplist $CAPS)
log=$LAB_TMP/run.log
bg_ns "$NS_SRV" "$log" setpriv --bounding-set="$l" --inh-caps="$l" --ambient-caps="$l" -- \
	"$XDPCT" run "$IF_SRV" --ports $PORT
pid=$BG_PID
check run_ready "no 'running on' line: $(tail -c 300 "$log" | tr '\n' '|')" \
	wait_until 20 grep -q "running on $IF_SRV" "$log"
kill -HUP "$pid"
check run_reexec_on_hup "no second 'running on' after SIGHUP: $(tail -c 300 "$log" | tr '\n' '|')" \
	wait_until 20 eval "[ \$(grep -c 'running on $IF_SRV' '$log') -ge 2 ]"
check run_alive_after_hup "the process is gone after SIGHUP" kill -0 "$pid"
kill -TERM "$pid"
wait_pid "$pid" 20
rc=$?
check_rc run_stops_on_term $rc "$(tail -c 300 "$log" | tr '\n' '|')"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass run_detaches; else fail run_detaches "$WHY"; fi

lab_finish
