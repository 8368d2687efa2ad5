#!/bin/bash
# Each end's own state (`xdpct conns`: local_state, remote_state) against
# the kernel's: after every step of real closes, on a protected and an
# observed port, local_state must be what `ss` shows for the server's
# socket and remote_state what it shows in the client's namespace (no
# socket: CLOSED). Python peers, driven step by step through FIFOs. Closes:
# client first, server first, half-close with data after the first FIN,
# simultaneous (crossed FINs), RST. To see FIN_WAIT_1 and LAST_ACK, nft
# holds an end's pure ACKs before they leave it (this host sees what the
# other end gets). Crossed FINs: each FIN passes this host and is dropped
# at the other end's input (both ends FIN_WAIT_1: not compared, the FINs
# count as delivered here), then the retransmissions get through with the
# ACKs held: one end TIME_WAIT, the other CLOSING; released: both TIME_WAIT.
# shellcheck source=tests/lib.sh
source "$(dirname "$0")/../lib.sh"

P_PROT=8080 # protected
P_OBS=8090  # observed

need_build "$XDPCT"
command -v nft >/dev/null || die "nft missing (make deps)" setup
command -v python3 >/dev/null || die "python3 missing" setup
lab_up

X() { in_srv timeout 20 "$XDPCT" "$@"; }

cat >"$LAB_TMP/peer.py" <<'EOF'
# A TCP end driven by lines on a FIFO; each command's result is appended
# to the status file as "N result".
import os, socket, struct, sys

fifo, status = sys.argv[1], sys.argv[2]
lsn = {}
conn = None
n = 0


def drain(s):
    # unread data would turn close() into a RST
    s.setblocking(False)
    try:
        while s.recv(65536):
            pass
    except (BlockingIOError, OSError):
        pass
    s.setblocking(True)


while True:
    with open(fifo) as f:
        for line in f:
            a = line.split()
            n += 1
            res = "ok"
            try:
                if a[0] == "listen":
                    s = socket.socket()
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("0.0.0.0", int(a[1])))
                    s.listen(16)
                    lsn[int(a[1])] = s
                elif a[0] == "accept":
                    conn, _ = lsn[int(a[1])].accept()
                elif a[0] == "connect":
                    conn = socket.create_connection((a[1], int(a[2])), timeout=10)
                    res = str(conn.getsockname()[1])
                elif a[0] == "send":
                    conn.sendall(b"x" * int(a[1]))
                elif a[0] == "drain":
                    drain(conn)
                elif a[0] == "shut":
                    conn.shutdown(socket.SHUT_WR)
                elif a[0] == "close":
                    drain(conn)
                    conn.close()
                elif a[0] == "rst":
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.close()
            except Exception as e:
                res = "error " + repr(e).replace("\n", " ")
            with open(status, "a") as st:
                st.write("%d %s\n" % (n, res))
EOF

declare -A NCMD=([srv]=0 [cli]=0)
start_peer() { # srv|cli NS
	mkfifo "$LAB_TMP/$1.fifo" || die "mkfifo" setup
	: >"$LAB_TMP/$1.status"
	bg_ns "$2" "$LAB_TMP/$1.log" python3 "$LAB_TMP/peer.py" "$LAB_TMP/$1.fifo" "$LAB_TMP/$1.status"
}
# peer srv|cli CMD...: run CMD, wait for its result (in RES); 1 on error
peer() {
	local who=$1 i
	shift
	NCMD[$who]=$((NCMD[$who] + 1))
	echo "$*" >"$LAB_TMP/$who.fifo"
	for ((i = 0; i < 200; i++)); do
		RES=$(sed -n "s/^${NCMD[$who]} //p" "$LAB_TMP/$who.status")
		[[ -n "$RES" ]] && break
		sleep 0.05
	done
	[[ -n "$RES" && "$RES" != error* ]]
}

start_peer srv "$NS_SRV"
start_peer cli "$NS_CLI"
if ! xdpct_attach "$IF_SRV" "$P_PROT" --observe $P_OBS >"$LAB_TMP/attach.out" 2>"$LAB_TMP/attach.err"; then
	die "xdpct attach failed: $(head -c 300 "$LAB_TMP/attach.err")" attach
fi
for p in $P_PROT $P_OBS; do
	peer srv listen "$p" || die "listen $p: $RES" setup
done
for ns in "$NS_SRV" "$NS_CLI"; do
	# retransmissions (after a hold) sooner than 200 ms: a shorter test
	in_ns "$ns" sysctl -qw net.ipv4.tcp_rto_min_us=50000 || die "tcp_rto_min_us in $ns" setup
	in_ns "$ns" nft -f - <<EOF || die "nft in $ns" setup
table inet xep {
	chain out { type filter hook output priority 0; }
	chain in { type filter hook input priority 0; }
}
EOF
done

# ss's state of the socket FILTER selects in NS, in RFC names; none: CLOSED
ss_state() { # NS FILTER
	local s
	s=$(in_ns "$1" ss -Htan "$2" | awk '{print $1}' | head -n 1)
	case "$s" in
	"") echo CLOSED ;;
	ESTAB) echo ESTABLISHED ;;
	SYN-SENT) echo SYN_SENT ;;
	SYN-RECV) echo SYN_RECEIVED ;;
	*) echo "${s//-/_}" ;;
	esac
}
srv_ss() { ss_state "$NS_SRV" "( sport = :$PORT and dport = :$CPORT )"; }
cli_ss() { ss_state "$NS_CLI" "( sport = :$CPORT and dport = :$PORT )"; }
# the entry's local_state remote_state
ends() {
	local line
	line=$(X conns "$IF_SRV" -j --port "$CPORT" 2>/dev/null | grep '^{' | grep "\"sport\":${PORT}[,}]")
	[[ -n "$line" ]] || { echo "no-entry no-entry"; return; }
	echo "$(json_val local_state <<<"$line") $(json_val remote_state <<<"$line")"
}
_settled() { # WANT_RE: ss pair matches it and xdpct agrees
	SS="$(srv_ss) $(cli_ss)"
	GOT=$(ends)
	[[ "$SS" =~ ^$1$ && "$GOT" == "$SS" ]]
}
# step NAME WANT_RE: once ss shows WANT_RE (server client), xdpct's ends
# must equal ss's
step() {
	local name=$KIND.$CASE.$1
	if wait_until 6 _settled "$2"; then
		pass "$name"
	elif [[ "$SS" =~ ^$2$ ]]; then
		fail "$name" "xdpct says local/remote '$GOT', ss server/client '$SS'"
	else
		fail "$name" "ss never showed '$2' (now '$SS'; xdpct '$GOT')"
	fi
}
nft_in() { in_ns "$1" nft "${@:2}"; }
# hold NS: drop the end's pure ACKs on PORT before they leave (this host
# sees nothing of them either); release NS
hold() {
	local m="tcp dport $PORT"
	[[ "$1" == "$NS_SRV" ]] && m="tcp sport $PORT"
	nft_in "$1" add rule inet xep out "$m" tcp flags '& (fin|syn|rst) == 0' drop
}
release() { nft_in "$1" flush chain inet xep out; nft_in "$1" flush chain inet xep in; }
# drop_fin_in NS: the FINs the end receives on PORT are dropped at its
# input, after this host saw them
drop_fin_in() {
	local m="tcp sport $PORT"
	[[ "$1" == "$NS_SRV" ]] && m="tcp dport $PORT"
	nft_in "$1" add rule inet xep in "$m" tcp flags '& fin == fin' drop
}
open_conn() {
	peer cli connect "$SRV4" "$PORT" || { fail "$KIND.$CASE.connect" "$RES"; return 1; }
	CPORT=$RES
	peer srv accept "$PORT" || { fail "$KIND.$CASE.accept" "$RES"; return 1; }
	step established 'ESTABLISHED ESTABLISHED'
}

for PORT in $P_PROT $P_OBS; do
	KIND=protected
	[[ $PORT == "$P_OBS" ]] && KIND=observed

	CASE=client_first
	if open_conn; then
		hold "$NS_SRV"
		peer cli close
		step fin_wait_1 'CLOSE_WAIT FIN_WAIT_1'
		release "$NS_SRV"
		step fin_wait_2 'CLOSE_WAIT FIN_WAIT_2'
		hold "$NS_CLI"
		peer srv close
		step last_ack 'LAST_ACK TIME_WAIT'
		release "$NS_CLI"
		step closed 'CLOSED TIME_WAIT'
	fi

	CASE=server_first
	if open_conn; then
		hold "$NS_CLI"
		peer srv close
		step fin_wait_1 'FIN_WAIT_1 CLOSE_WAIT'
		release "$NS_CLI"
		step fin_wait_2 'FIN_WAIT_2 CLOSE_WAIT'
		hold "$NS_SRV"
		peer cli close
		step last_ack 'TIME_WAIT LAST_ACK'
		release "$NS_SRV"
		step closed 'TIME_WAIT CLOSED'
	fi

	CASE=half_close
	if open_conn; then
		peer cli shut
		step fin_wait_2 'CLOSE_WAIT FIN_WAIT_2'
		for i in 1 2; do
			peer srv send 3000
			peer cli drain
			step "data_$i" 'CLOSE_WAIT FIN_WAIT_2'
		done
		peer srv close
		step closed 'CLOSED TIME_WAIT'
		peer cli close
	fi

	CASE=simultaneous
	if open_conn; then
		drop_fin_in "$NS_SRV"
		drop_fin_in "$NS_CLI"
		peer cli close
		peer srv close
		# both FIN_WAIT_1, both FINs seen here: wait until both were
		# sent, then let the retransmissions in, ACKs held
		wait_until 3 eval '[[ "$(srv_ss) $(cli_ss)" == "FIN_WAIT_1 FIN_WAIT_1" ]]'
		hold "$NS_SRV"
		hold "$NS_CLI"
		nft_in "$NS_SRV" flush chain inet xep in
		nft_in "$NS_CLI" flush chain inet xep in
		step closing '(CLOSING TIME_WAIT|TIME_WAIT CLOSING)'
		release "$NS_SRV"
		release "$NS_CLI"
		step time_wait 'TIME_WAIT TIME_WAIT'
	fi

	CASE=rst
	if open_conn; then
		peer cli rst
		step closed 'CLOSED CLOSED'
		peer srv close
	fi
done

lab_finish
