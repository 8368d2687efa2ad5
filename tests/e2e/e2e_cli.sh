#!/bin/bash
# CLI error cases: each must exit non-zero, print exactly one line on stderr
# naming the problem, and leave nothing attached (no XDP program, no TC
# filter, no pin directory). Then attach twice (the second reloads in
# place), and detach removes all.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
need_build "$XDPCT" "$TCPPEER"
lab_up

# expect_error NAME REGEX cmd...: cmd (run in the server ns by the caller)
# fails with one stderr line matching REGEX (case-insensitive), and leaves
# IF_SRV clean.
expect_error() {
	local name=$1 re=$2 rc nl why=
	shift 2
	"$@" >"$LAB_TMP/out" 2>"$LAB_TMP/err" </dev/null
	rc=$?
	nl=$(wc -l <"$LAB_TMP/err")
	# a message without a final newline still counts as one line
	[[ -s "$LAB_TMP/err" && "$nl" == 0 ]] && nl=1
	((rc != 0)) || why+="exit status 0; "
	((rc == 124)) && why+="timed out; "
	[[ "$nl" == 1 ]] || why+="$nl lines on stderr; "
	grep -Eqi -- "$re" "$LAB_TMP/err" || why+="stderr does not match /$re/; "
	nothing_attached "$NS_SRV" "$IF_SRV" || why+="$WHY"
	if [[ -z "$why" ]]; then
		pass "$name"
	else
		fail "$name" "${DESC:+$DESC: }${why}stderr: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
	fi
}
X=(timeout 20 "$XDPCT")
# xdp_attach_mode: IFLA_XDP_ATTACHED of IF_SRV (ip -j: "xdp":{"mode":N}):
# 1 native (driver), 2 generic (skb)
xdp_attach_mode() {
	in_srv ip -j -d link show dev "$IF_SRV" | grep -o '"xdp":{"mode":[0-9]*' | grep -o '[0-9]*$'
}

expect_error not_root 'missing capability CAP_NET_ADMIN' \
	in_srv setpriv --reuid=65534 --regid=65534 --clear-groups "${X[@]}" attach "$IF_SRV" --ports $PORT
# a kernel without the handover kfunc (its BTF with the name changed):
# refused before anything is loaded, naming the kfunc and the kernel
python3 -c "
import sys
d = open('/sys/kernel/btf/vmlinux', 'rb').read()
n = b'\\0bpf_sk_assign_tcp_reqsk\\0'
assert d.count(n) == 1
open(sys.argv[1], 'wb').write(d.replace(n, b'\\0bpf_sk_assign_tcp_reqsX\\0'))" "$LAB_TMP/btf-old" ||
	die "cannot write a BTF without the kfunc" kernel_btf
expect_error kernel_without_kfunc 'lacks the kfunc bpf_sk_assign_tcp_reqsk: .*Linux 6\.9' \
	in_srv env XDPCT_KERNEL_BTF="$LAB_TMP/btf-old" "${X[@]}" attach "$IF_SRV" --ports $PORT
expect_error kernel_without_btf 'no BTF .*CONFIG_DEBUG_INFO_BTF' \
	in_srv env XDPCT_KERNEL_BTF="$LAB_TMP/no-such-btf" "${X[@]}" attach "$IF_SRV" --ports $PORT
expect_error unknown_interface 'interface|device' \
	in_srv "${X[@]}" attach nosuchif0 --ports $PORT
# a device of the host ns: xdpct must look in its own ns only
hostif=$(ip -o link show | awk -F': ' '$2 != "lo" {sub(/@.*/, "", $2); print $2; exit}')
if [[ -n "$hostif" ]] && ! in_srv ip link show dev "$hostif" >/dev/null 2>&1; then
	expect_error interface_of_other_netns 'interface|device' \
		in_srv "${X[@]}" attach "$hostif" --ports $PORT
else
	skip interface_of_other_netns "no host interface to borrow a name from"
fi
expect_error bad_interface_name 'interface|device|name' \
	in_srv "${X[@]}" attach .. --ports $PORT
expect_error missing_ports 'port' \
	in_srv "${X[@]}" attach "$IF_SRV"
i=0
for p in '' 0 65536 99999999999 abc 8o '80,' ',80' '80,,81' '10-5' '1-' '-5' '80 81' '80-90-100'; do
	i=$((i + 1))
	DESC="--ports '$p'" expect_error "bad_ports_$i" 'port' \
		in_srv "${X[@]}" attach "$IF_SRV" --ports "$p"
done
expect_error bad_mode 'mode' in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT --mode turbo
expect_error unknown_option 'option|unknown|usage' \
	in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT --frobnicate
expect_error unknown_command 'command|unknown|usage' in_srv "${X[@]}" frobnicate
expect_error ports_observe_overlap 'port 8080 is in both' \
	in_srv "${X[@]}" attach "$IF_SRV" --ports 80,8000-8100 --observe $PORT

# Under systemd (JOURNAL_STREAM names stderr) each line carries its syslog
# priority for journald (`journalctl -p err`); anywhere else nothing changes
jf=$LAB_TMP/journal.err
: >"$jf"
js=$(stat -c '%d:%i' "$jf")
in_srv env JOURNAL_STREAM="$js" "${X[@]}" attach nosuchif0 --ports $PORT 2>"$jf"
assert_eq journal_priority_err "$(head -c 17 "$jf")" "<3>xdpct: error: "
in_srv env JOURNAL_STREAM=1:2 "${X[@]}" attach nosuchif0 --ports $PORT 2>"$jf"
assert_eq journal_other_stream_plain "$(head -c 14 "$jf")" "xdpct: error: "

# The arguments are checked before privilege and interface: a typo gets
# its own message and the usage status (2), whoever runs it.
usage_first() { # NAME REGEX ARGS...
	local name=$1 re=$2 out rc
	shift 2
	out=$(in_srv setpriv --reuid=65534 --regid=65534 --clear-groups "${X[@]}" "$@" 2>&1)
	rc=$?
	if ((rc == 2)) && [[ $(wc -l <<<"$out") == 1 ]] && grep -Eqi -- "$re" <<<"$out"; then
		pass "$name"
	else
		fail "$name" "rc $rc: $out"
	fi
}
usage_first args_before_root_attach "port list '80,x'" attach nosuchif0 --ports 80,x
usage_first args_before_root_run "99999" run nosuchif0 --ports 99999
usage_first args_before_root_config "both --ports and --observe" config --pin-dir /nonexistent \
	--ports 1-2 --observe 2
usage_first args_before_root_allow "not an IPv4 or IPv6 prefix" allow add nosuchif0 10.1.2
# the eviction benchmark is build/bench/evict, not an option of the CLI
usage_first evict_bench_not_in_cli "unknown option '--bench'" evict --bench

# bpffs missing: a private mount namespace (propagation private, so the
# host keeps its bpffs) with every bpffs mount at /sys/fs/bpf removed.
no_bpffs() {
	in_srv unshare -m --propagation private sh -c '
		i=0
		while mountpoint -q /sys/fs/bpf && [ $i -lt 10 ]; do
			umount /sys/fs/bpf || exit 99
			i=$((i + 1))
		done
		exec "$@"' sh "$@"
}
expect_error no_bpffs 'bpf' no_bpffs "${X[@]}" attach "$IF_SRV" --ports $PORT
mountpoint -q "$BPFFS" || die "the host lost its bpffs mount" no_bpffs_host

# tcp_syncookies=0 in the server ns: the kernel would reset cookie ACKs.
old=$(in_srv cat /proc/sys/net/ipv4/tcp_syncookies)
in_srv sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_syncookies'
expect_error syncookies_off 'syncookie' in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT
in_srv sh -c "echo $old > /proc/sys/net/ipv4/tcp_syncookies"
# the host's setting is untouched (per netns)
note "host tcp_syncookies $(cat /proc/sys/net/ipv4/tcp_syncookies)"

expect_error stats_not_attached 'attach|pin|not found|no such|xdpct_stats|bpf' \
	in_srv "${X[@]}" stats "$IF_SRV" -j

# -- attach, attach again, detach --
if in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err"; then
	pass attach
else
	die "attach failed: $(head -c 300 "$LAB_TMP/err")" attach
fi
prog_before=$(in_srv ip -d link show dev "$IF_SRV" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
# native unless told otherwise (README, "Native or generic mode")
assert_eq attach_default_native "$(xdp_attach_mode)" 1
# The "nothing attached" probe sees a real attachment (else the checks
# above prove nothing).
nothing_attached "$NS_SRV" "$IF_SRV"
case $WHY in
*xdp*"tc ingress"*"$PIN_ROOT"*) pass probe_sees_attachment ;;
*) fail probe_sees_attachment "after attach the probe reports only: '$WHY'" ;;
esac

# status -j gives the ports as nftables writes a set
in_srv "${X[@]}" detach "$IF_SRV" >/dev/null 2>&1
if in_srv "${X[@]}" attach "$IF_SRV" --ports 443,$PORT-8090 --observe 22 >/dev/null 2>&1; then
	js=$(in_srv "${X[@]}" status "$IF_SRV" -j)
	assert_eq status_ports_json "$(grep -o '"ports":{[^}]*}[^}]*}' <<<"$js")" \
		"\"ports\":{\"protect\":[443,{\"range\":[$PORT,8090]}],\"observe\":[22],\"track_all\":false}"
else
	fail status_ports_json "attach with a port range failed"
fi
in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT >/dev/null 2>&1

# Attaching again reloads in place (new programs, same maps) and says so.
in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
why=
((rc == 0)) || why+="exit status $rc; "
[[ -s "$LAB_TMP/err" ]] && why+="stderr not empty; "
grep -q 'reloaded on .*attached already' "$LAB_TMP/out" || why+="stdout does not say reloaded; "
if [[ -z "$why" ]]; then pass attach_twice_reloads; else
	fail attach_twice_reloads "${why}out: $(head -c 300 "$LAB_TMP/out" | tr '\n' '|') err: $(head -c 300 "$LAB_TMP/err" | tr '\n' '|')"
fi

# The programs were replaced in place: a new XDP program, still attached.
prog_after=$(in_srv ip -d link show dev "$IF_SRV" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
if [[ -n "$prog_after" && "$prog_after" != "$prog_before" ]]; then pass attach_twice_new_program; else
	fail attach_twice_new_program "xdp id ${prog_before:-none} -> ${prog_after:-none}"
fi
bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 4096
wait_port "$NS_SRV" $PORT 30 || fail server "no listener"
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 10k --down 10k \
	--timeout 5 --json >"$LAB_TMP/c.j" 2>&1
rc=$?
check_rc attach_twice_still_works "$rc" "connect failed: $(head -c 200 "$LAB_TMP/c.j")"
stats_snap "$IF_SRV"
assert_ge attach_twice_still_shields "$(xstat tx_synack)" 1

# detach removes everything
if in_srv "${X[@]}" detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"; then
	pass detach
else
	fail detach "$(head -c 300 "$LAB_TMP/err")"
fi
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass detach_removes_all; else
	fail detach_removes_all "$WHY"
fi
# Detaching again: exit 1, one line saying it is not attached.
in_srv "${X[@]}" detach "$IF_SRV" >"$LAB_TMP/out" 2>"$LAB_TMP/err"
rc=$?
nl=$(wc -l <"$LAB_TMP/err")
if ((rc == 1)) && [[ "$nl" == 1 ]] && grep -qi "not attached" "$LAB_TMP/err"; then pass detach_again; else
	fail detach_again "rc $rc with $nl stderr lines: $(head -c 200 "$LAB_TMP/err")"
fi
note "detach again: rc $rc: $(head -c 200 "$LAB_TMP/err")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass detach_again_clean; else
	fail detach_again_clean "$WHY"
fi

# skb mode attaches and detaches as cleanly.
if in_srv "${X[@]}" attach "$IF_SRV" --ports $PORT --mode skb >"$LAB_TMP/out" 2>"$LAB_TMP/err"; then
	pass attach_skb_mode
	# the kernel's own word: attach mode 2 is XDP_ATTACHED_SKB (generic);
	# native would be 1
	assert_eq attach_skb_mode_generic "$(xdp_attach_mode)" 2
	in_srv "${X[@]}" detach "$IF_SRV" >/dev/null 2>&1
	if nothing_attached "$NS_SRV" "$IF_SRV"; then pass detach_skb_mode; else
		fail detach_skb_mode "$WHY"
	fi
else
	fail attach_skb_mode "$(head -c 300 "$LAB_TMP/err")"
fi

lab_finish
