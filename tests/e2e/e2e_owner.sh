#!/bin/bash
# What xdpct did not make, it does not remove, and what it made, nobody
# else's tool takes:
#  - TC goes in through TCX links: no qdisc made; a clsact and foreign
#    filters added meanwhile stay at detach; a reload swaps the links'
#    programs; cookie ACKs are handed over
#  - with XDPCT_TC_CLSACT (clsact filters, as without TCX): a clsact
#    qdisc that was there before attach stays after detach, with
#    its filters (u32 on ingress and egress: this kernel has neither
#    cls_matchall nor act_gact), and so does an empty one; a clsact
#    xdpct made goes at detach, unless someone else has put a filter on
#    it meanwhile
#  - the XDP program is a pinned link: `ip link set ... xdp off` and
#    `... xdpdrv obj` fail and leave it; a reload updates the link
#  - a --pin-dir off bpffs (files named like xdpct's pins in /tmp) is
#    refused by detach and attach, in one line, and every file stays
#  - a --pin-dir on bpffs without xdpct's maps (a foreign map named
#    xdpct_flows4) is refused by detach, and the map stays
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PORT=8080
need_build "$XDPCT" "$TCPPEER" "$BUILD/tcxprogs"
command -v bpftool >/dev/null || die "bpftool missing" setup
BPFDIR=$BPFFS/xct_owner_$LAB_ID # ours: unique name, removed on exit
lab_up
trap 'lab_down; rm -rf "$BPFDIR"' EXIT

CLSACT= # XDPCT_TC_CLSACT: TC through clsact filters, as without TCX
X() { in_srv env XDPCT_TC_CLSACT="$CLSACT" timeout 30 "$XDPCT" "$@"; }
tcx() { in_srv "$BUILD/tcxprogs" "$IF_SRV" "$1" 2>&1 | tr '\n' ' '; } # DIR: program ids
pinned_prog() { bpftool -j prog show pinned "$(pin_of "$IF_SRV")/$1" 2>/dev/null | json_num id; }
has_clsact() { in_srv tc qdisc show dev "$IF_SRV" 2>/dev/null | grep -q clsact; }
filters() { # DIR: the kinds of the filters on a hook ("bpf u32 "), one line
	in_srv tc filter show dev "$IF_SRV" "$1" 2>/dev/null | grep -o '\(u32\|bpf\) chain' |
		cut -d' ' -f1 | sort -u | tr '\n' ' '
}
# a foreign filter that matches nothing: traffic goes on to the next
u32_add() { in_srv tc filter add dev "$IF_SRV" "$1" pref 7 protocol all u32 match u32 0x12345678 0xffffffff at 0; }
attach() { X attach "$IF_SRV" --ports $PORT >"$LAB_TMP/a.out" 2>&1; }
detach() { X detach "$IF_SRV" >"$LAB_TMP/d.out" 2>&1; }
LAB_ATTACHED+=("$IF_SRV")

bg_ns "$NS_SRV" "$LAB_TMP/server.log" "$TCPPEER" serve --port $PORT --backlog 1024
wait_port "$NS_SRV" $PORT 30 || die "no listener" server

# ---- TCX (the default): no qdisc made, none touched ----
attach
check_rc tcx_attach $? "$(head -c 300 "$LAB_TMP/a.out")"
assert_eq tcx_ingress "$(tcx ingress)" "$(pinned_prog prog_tc_in) "
assert_eq tcx_egress "$(tcx egress)" "$(pinned_prog prog_tc_out) "
if ! has_clsact; then pass tcx_no_qdisc; else fail tcx_no_qdisc "attach made a clsact qdisc"; fi
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 8k --down 8k --timeout 5 \
	>/dev/null 2>&1
check_rc tcx_connect $? "connect through TCX"
stats_snap "$IF_SRV"
assert_ge tcx_handoff "$(xstat tc_handoff)" 1
assert_ge tcx_egress_runs "$(xstat tc_out_packets)" 1
# a reload swaps the links' programs in place
X reload "$IF_SRV" >"$LAB_TMP/r.out" 2>&1
check_rc tcx_reload $? "$(head -c 300 "$LAB_TMP/r.out")"
assert_eq tcx_reload_ingress "$(tcx ingress)" "$(pinned_prog prog_tc_in) "
# foreign filters added meanwhile stay at detach, and so does their qdisc
in_srv tc qdisc add dev "$IF_SRV" clsact || die "tc qdisc add clsact" setup_qdisc
u32_add ingress && u32_add egress || die "tc filter add u32" setup_filter
detach
check_rc tcx_detach $? "$(head -c 300 "$LAB_TMP/d.out")"
if has_clsact && [[ "$(filters ingress)$(filters egress)" == "u32 u32 " ]]; then pass tcx_foreign_kept; else
	fail tcx_foreign_kept "clsact $(has_clsact && echo kept || echo removed), filters '$(filters ingress)' '$(filters egress)'"
fi
assert_empty tcx_detached "$(tcx ingress)$(tcx egress)"
in_srv tc qdisc del dev "$IF_SRV" clsact

# ---- clsact filters (XDPCT_TC_CLSACT, as on kernels without TCX) ----
CLSACT=1
# a clsact with foreign filters, there before xdpct
in_srv tc qdisc add dev "$IF_SRV" clsact || die "tc qdisc add clsact" setup_qdisc
u32_add ingress && u32_add egress || die "tc filter add u32" setup_filter
fin=$(filters ingress) fout=$(filters egress)
[[ "$fin" == "u32 " && "$fout" == "u32 " ]] || die "the foreign filters are not there: '$fin' '$fout'" setup_filter
attach
check_rc foreign_attach $? "$(head -c 300 "$LAB_TMP/a.out")"
in_cli timeout 20 "$TCPPEER" connect --addr "$SRV4" --port $PORT --up 8k --down 8k --timeout 5 \
	>/dev/null 2>&1
check_rc foreign_connect $? "connect with xdpct beside the foreign filters"
assert_eq foreign_attach_adds_ours "$(filters ingress)" "bpf u32 "
detach
check_rc foreign_detach $? "$(head -c 300 "$LAB_TMP/d.out")"
if has_clsact; then pass foreign_qdisc_kept; else fail foreign_qdisc_kept "clsact removed"; fi
assert_eq foreign_ingress_kept "$(filters ingress)" "$fin"
assert_eq foreign_egress_kept "$(filters egress)" "$fout"

# an empty clsact, there before xdpct
in_srv tc filter del dev "$IF_SRV" ingress
in_srv tc filter del dev "$IF_SRV" egress
assert_empty empty_setup "$(filters ingress)$(filters egress)"
attach
check_rc empty_attach $? "$(head -c 300 "$LAB_TMP/a.out")"
detach
check_rc empty_detach $? "$(head -c 300 "$LAB_TMP/d.out")"
if has_clsact; then pass empty_qdisc_kept; else fail empty_qdisc_kept "the clsact that was there before xdpct was removed"; fi
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass empty_nothing_left; else fail empty_nothing_left "$WHY"; fi

# a clsact xdpct made
in_srv tc qdisc del dev "$IF_SRV" clsact
attach
check_rc own_attach $? "$(head -c 300 "$LAB_TMP/a.out")"
if has_clsact; then pass own_qdisc_made; else fail own_qdisc_made "no clsact after attach"; fi
detach
if ! has_clsact; then pass own_qdisc_removed; else fail own_qdisc_removed "clsact left"; fi
# ... and someone else's filter on it meanwhile keeps it
attach
u32_add ingress
detach
if has_clsact && [[ "$(filters ingress)" == "u32 " ]]; then pass own_qdisc_shared_kept; else
	fail own_qdisc_shared_kept "clsact $(has_clsact && echo kept || echo removed), ingress '$(filters ingress)'"
fi
in_srv tc qdisc del dev "$IF_SRV" clsact
CLSACT=

# ---- the XDP program is a link: nobody else's netlink call takes it ----
xdp_id() { in_srv ip -d link show dev "$IF_SRV" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
link_prog() { bpftool -j link show pinned "$(pin_of "$IF_SRV")/link_xdp" 2>/dev/null | json_num prog_id; }
attach
check_rc link_attach $? "$(head -c 300 "$LAB_TMP/a.out")"
id0=$(xdp_id)
assert_eq link_pinned "$(link_prog)" "$id0"
in_srv ip link set dev "$IF_SRV" xdp off 2>"$LAB_TMP/e"
rc=$?
if ((rc != 0)) && [[ -n "$id0" && "$(xdp_id)" == "$id0" ]]; then pass link_not_removable; else
	fail link_not_removable "ip link xdp off: rc $rc, xdp id $id0 -> $(xdp_id)"
fi
in_srv ip link set dev "$IF_SRV" xdpdrv obj "$XDP_PASS_OBJ" sec xdp 2>"$LAB_TMP/e"
rc=$?
if ((rc != 0)) && [[ -n "$id0" && "$(xdp_id)" == "$id0" ]]; then pass link_not_replaceable; else
	fail link_not_replaceable "ip link xdpdrv obj: rc $rc, xdp id $id0 -> $(xdp_id)"
fi
X reload "$IF_SRV" >"$LAB_TMP/r.out" 2>&1
check_rc link_reload $? "$(head -c 300 "$LAB_TMP/r.out")"
id1=$(xdp_id)
if [[ -n "$id1" && "$id1" != "$id0" && "$(link_prog)" == "$id1" ]]; then pass link_reload_updates; else
	fail link_reload_updates "xdp id $id0 -> $id1, link's program $(link_prog)"
fi
detach
check_rc link_detach $? "$(head -c 300 "$LAB_TMP/d.out")"
if nothing_attached "$NS_SRV" "$IF_SRV"; then pass link_detach_clean; else fail link_detach_clean "$WHY"; fi

# ---- --pin-dir off bpffs ----
D=$LAB_TMP/pins
mkdir -p "$D"
for f in xdpct_config xdpct_flows4 prog_xdp prog_tc_in link_sockops notes; do echo "$f" >"$D/$f"; done
sum0=$(cd "$D" && sha256sum ./* | sha256sum)
one_line_err() { # NAME REGEX: exit 1 and one stderr line matching
	local n
	n=$(wc -l <"$LAB_TMP/e")
	if ((RC == 1)) && [[ "$n" == 1 ]] && grep -Eq "$2" "$LAB_TMP/e"; then pass "$1"; else
		fail "$1" "rc $RC, $n lines: $(head -c 300 "$LAB_TMP/e")"
	fi
}
X detach "$IF_SRV" --pin-dir "$D" >/dev/null 2>"$LAB_TMP/e"
RC=$?
one_line_err tmp_detach_refused 'not on bpffs'
assert_eq tmp_detach_files_kept "$(cd "$D" && sha256sum ./* | sha256sum)" "$sum0"
X attach "$IF_SRV" --ports $PORT --pin-dir "$D" >/dev/null 2>"$LAB_TMP/e"
RC=$?
one_line_err tmp_attach_refused 'not on bpffs'
assert_eq tmp_attach_files_kept "$(cd "$D" && sha256sum ./* | sha256sum)" "$sum0"
nothing_attached "$NS_SRV" "$IF_SRV"
assert_empty tmp_attach_nothing_attached "$WHY"

# ---- --pin-dir on bpffs, not xdpct's ----
mkdir -p "$BPFDIR" || die "mkdir $BPFDIR" setup_bpfdir
bpftool map create "$BPFDIR/xdpct_flows4" type array key 4 value 4 entries 1 name notxdpct ||
	die "bpftool map create" setup_bpfdir
X detach "$IF_SRV" --pin-dir "$BPFDIR" >/dev/null 2>"$LAB_TMP/e"
RC=$?
one_line_err bpffs_detach_refused 'no xdpct maps'
if bpftool map show pinned "$BPFDIR/xdpct_flows4" >/dev/null 2>&1; then pass bpffs_foreign_map_kept; else
	fail bpffs_foreign_map_kept "the foreign map's pin is gone"
fi

lab_finish
