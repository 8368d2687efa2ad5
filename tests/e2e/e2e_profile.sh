#!/bin/bash
# Per-port SYN-ACK profiles (`--profile PORTS:SETTINGS`): real clients
# through cookies on four protected ports, one with an MSS clamp and no
# SACK or window scaling, one without ECN, one without timestamps, one
# without a profile; the options and MSS both ends' sockets got (TCP_INFO, as
# tcppeer reports it) are what each profile leaves, IPv4 and IPv6, data
# digests checked; status shows the table; a reload with ports and no
# --profile clears them; every CLI error is one line, exit 2.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

PA=8080 # mss=1300, no-sack, no-wscale
PB=8081 # no-ecn
PD=8083 # no-ts
PC=8082 # no profile

need_build "$XDPCT" "$TCPPEER"
lab_up
xdpct_attach "$IF_SRV" $PA,$PB,$PC,$PD --profile $PA:mss=1300,no-sack,no-wscale \
	--profile $PB:no-ecn --profile $PD:no-ts >"$LAB_TMP/attach.out" 2>&1 ||
	die "attach: $(cat "$LAB_TMP/attach.out")" attach
pass attach_with_profiles
for port in $PA $PB $PC $PD; do
	bg_ns "$NS_SRV" "$LAB_TMP/server$port.log" "$TCPPEER" serve --port $port --backlog 256 \
		--timeout 300 --info "$LAB_TMP/server.j"
	wait_port "$NS_SRV" $port 10 || die "tcppeer serve did not listen on $port" server
done
X() { in_srv timeout 20 "$XDPCT" "$@"; }
in_cli sh -c 'echo 1 > /proc/sys/net/ipv4/tcp_ecn' # the client asks for ECN
# and keeps asking on a retransmitted SYN (Linux's default fallback drops
# ECE|CWR from it, so one lost SYN would read as ECN not negotiated)
in_cli sh -c 'echo 0 > /proc/sys/net/ipv4/tcp_ecn_fallback'

SEED=100
# conn NAME ADDR PORT TS SACK WSCALE ECN CLIENT_MSS SERVER_MSS: one
# connection; both ends' options and send MSS as given
conn() {
	local name=$1 addr=$2 port=$3 c s k v bad=
	SEED=$((SEED + 1))
	c=$(in_cli timeout 20 "$TCPPEER" connect --addr "$addr" --port "$port" --up 128k \
		--down 128k --seed $SEED --timeout 10 --json 2>&1)
	wait_until 20 grep -q "\"seed\":$SEED," "$LAB_TMP/server.j"
	s=$(grep "\"seed\":$SEED," "$LAB_TMP/server.j")
	[[ "$(json_val ok <<<"$c")" == true ]] || bad+="client: $c; "
	[[ "$(json_val ok <<<"$s")" == true ]] || bad+="server record: ${s:-none}; "
	if [[ -z "$bad" ]]; then
		for k in ts sack wscale ecn; do
			case $k in
			ts) v=$4 ;; sack) v=$5 ;; wscale) v=$6 ;; ecn) v=$7 ;;
			esac
			[[ "$(json_val $k <<<"$c")" == "$v" ]] || bad+="client $k=$(json_val $k <<<"$c") want $v; "
			[[ "$(json_val $k <<<"$s")" == "$v" ]] || bad+="server $k=$(json_val $k <<<"$s") want $v; "
		done
		[[ "$(json_num snd_mss <<<"$c")" == "$8" ]] || bad+="client snd_mss=$(json_num snd_mss <<<"$c") want $8; "
		[[ "$(json_num snd_mss <<<"$s")" == "$9" ]] || bad+="server snd_mss=$(json_num snd_mss <<<"$s") want $9; "
	fi
	if [[ -z "$bad" ]]; then pass "$name"; else fail "$name" "$bad"; fi
}
# MSS over the veth (MTU 1500): 1460 / 1440, less 12 with timestamps. The
# server's comes from the cookie's MSS table (1460 / 1300 IPv4; 1440 /
# 1220 IPv6: the largest entry not above the clamped client MSS)
conn ipv4_clamped_no_sack_no_ws $SRV4 $PA true false false true 1288 1288
conn ipv6_clamped_no_sack_no_ws $SRV6 $PA true false false true 1268 1208
# no timestamps: as from Linux's own cookies, the SYN-ACK offers MSS only
conn ipv4_no_ts $SRV4 $PD false false false false 1460 1460
conn ipv6_no_ts $SRV6 $PD false false false false 1440 1440
conn ipv4_no_ecn $SRV4 $PB true true true false 1448 1448
conn ipv6_no_ecn $SRV6 $PB true true true false 1428 1428
conn ipv4_no_profile $SRV4 $PC true true true true 1448 1448
conn ipv6_no_profile $SRV6 $PC true true true true 1428 1428

out=$(X status "$IF_SRV")
grep -q "profiles   $PA:mss=1300,mss6=1280,no-sack,no-wscale $PB:no-ecn $PD:no-ts" <<<"$out" &&
	pass status_text || fail status_text "$(grep profiles <<<"$out")"
out=$(X status "$IF_SRV" -j)
grep -q "\"profiles\":\[{\"ports\":\[$PA\],\"mss4\":1300,\"mss6\":1280,\"no_sack\":true,\"no_ts\":false,\"no_wscale\":true,\"no_ecn\":false,\"auto_rate\":0,\"handover\":\"local\"},{\"ports\":\[$PB\]" <<<"$out" &&
	pass status_json || fail status_json "$(grep -o '"profiles":[^]]*]' <<<"$out")"

# a reload with ports and no --profile: the ports' own settings go
out=$(X reload "$IF_SRV" --ports $PA,$PB,$PC,$PD 2>&1) || fail reload "$out"
conn ipv4_after_reload_full_options $SRV4 $PA true true true true 1448 1448
X status "$IF_SRV" | grep -q "profiles   none" && pass status_none || fail status_none "$(X status "$IF_SRV" | grep profiles)"

# `xdpct config` writes them too (the iproute2 path's writer)
out=$(X config --ifname "$IF_SRV" --pin-dir "$(pin_of "$IF_SRV")" --ports $PA,$PB,$PC,$PD \
	--profile $PA:no-sack 2>&1) || fail config_profile "$out"
conn ipv4_config_no_sack $SRV4 $PA true false true true 1448 1448

err_case() { # NAME ARGS..: one line, exit 2
	local name=$1 out rc
	shift
	out=$(X "$@" 2>&1)
	rc=$?
	if [[ $rc -eq 2 && $(wc -l <<<"$out") -eq 1 ]]; then pass "$name"; else
		fail "$name" "rc $rc: $out"
	fi
}
err_case err_unprotected_port reload "$IF_SRV" --ports $PA --observe $PB --profile $PB:no-ts
err_case err_unknown_setting reload "$IF_SRV" --ports $PA --profile $PA:no-foo
err_case err_bad_mss reload "$IF_SRV" --ports $PA --profile $PA:mss=100
err_case err_no_colon reload "$IF_SRV" --ports $PA --profile $PA
err_case err_two_profiles reload "$IF_SRV" --ports $PA --profile $PA:no-ts --profile $PA:no-ecn
err_case err_without_ports reload "$IF_SRV" --profile $PA:no-ts
err_case err_bad_auto_rate reload "$IF_SRV" --ports $PA --profile $PA:auto-rate=0
err_case err_config_unprotected config --ifname "$IF_SRV" --pin-dir "$(pin_of "$IF_SRV")" \
	--observe $PA --profile $PA:no-ts

lab_finish
