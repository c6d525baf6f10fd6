#!/bin/bash
# attack_xdp.sh — issue 10's packet attacks, replayed end to end against a real agent.
#
# A hostile network peer (namespace A) sends raw frames to the victim V, where floodgated
# protects veth-a with XDP. Per attack one line:
#   HELD|BROKE mapped-source: UDP from ::ffff:203.0.113.7 with 203.0.113.0/24 denied
#   HELD|BROKE mapped-deny-entry: a deny entry written ::ffff:203.0.113.0/120 (alone in the
#              config; both spellings in one config; both through floodctl)
#   HELD|BROKE tiny-fragment: SYNs split after 8 bytes of TCP (RFC 1858), the first
#              fragment padded with a trailer that reads "ACK"
# Figures: frames sent, frames seen behind XDP (a sniffer on V), V's kernel counters, the
# agent's reason counters. Exit 0 all held, 1 one broke, 249 cannot run here. ~30 s.
set -u
. "$(dirname "$0")/../netns/lib.sh"
. "$(dirname "$0")/../netns/agent.sh"

fg_require_cmd python3
N=40 # frames (or fragment pairs) per attack
broke=0
held() { echo "HELD $*"; }
brk() {
	echo "BROKE $*"
	broke=1
}

fg_topo_3ns
cat >"$FG_TMP/fg.yaml" <<YAML
defaults:
  tcp: { per_source: { rate: 1, burst: 2 } }
  udp: { per_source: { rate: 100000, burst: 100000 } }
deny: ["::ffff:203.0.113.0/120"]
YAML
fg_agent_start "$FG_TMP/fg.yaml"

# frames.py KIND ARGS — hex frames, one per line, with real checksums (V's kernel checks
# them: a frame it would drop anyway proves nothing).
cat >"$FG_TMP/frames.py" <<'PY'
import ipaddress, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def eth(dst, src, et):
    return bytes.fromhex(dst.replace(":", "")) + bytes.fromhex(src.replace(":", "")) + struct.pack("!H", et)

def ip4(src, dst, proto, ident, frag, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

kind, dmac, smac = sys.argv[1:4]
if kind == "ack4":  # SRC DST SPORT COUNT: ACKs to :443 from SPORT on (no limit holds them)
  src, dst = sys.argv[4], sys.argv[5]
  for sport in range(int(sys.argv[6]), int(sys.argv[6]) + int(sys.argv[7])):
    tcp = struct.pack("!HHIIHHHH", sport, 443, 1000 + sport, 1, 0x5010, 64240, 0, 0)
    ph = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    print((eth(dmac, smac, 0x0800) + ip4(src, dst, 6, sport, 0x4000, tcp)).hex())
elif kind == "tiny":  # SRC DST SPORT COUNT: SYNs (with an MSS option) in two fragments each
  src, dst = sys.argv[4], sys.argv[5]
  for sport in range(int(sys.argv[6]), int(sys.argv[6]) + int(sys.argv[7])):
    tcp = struct.pack("!HHIIHHHH", sport, 443, 7000 + sport, 0, 0x6002, 64240, 0, 0) + bytes.fromhex("020405b4")
    ph = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
    ident = 0x4000 + sport % 0x4000
    # First fragment: ports and sequence number only, MF set; the trailer after the IP
    # length reads "doff 5, ACK" where a TCP header's flags would be.
    first = eth(dmac, smac, 0x0800) + ip4(src, dst, 6, ident, 0x2000, tcp[:8]) + bytes.fromhex("000000005010000000000000000000000000")
    rest = eth(dmac, smac, 0x0800) + ip4(src, dst, 6, ident, 1, tcp[8:])
    print(first.hex())
    print(rest.hex())
elif kind == "udp6":  # SRC DST: UDP "ping" to :7777
    src, dst = ipaddress.IPv6Address(sys.argv[4]).packed, ipaddress.IPv6Address(sys.argv[5]).packed
    data = b"ping-7777"
    udp = struct.pack("!HHHH", 40000, 7777, 8 + len(data), 0) + data
    ph = src + dst + struct.pack("!IxxxB", len(udp), 17)
    udp = udp[:6] + struct.pack("!H", csum(ph + udp) or 0xFFFF) + udp[8:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(udp), 17, 64) + src + dst
    print((eth(dmac, smac, 0x86DD) + ip6 + udp).hex())
PY
frames() { python3 "$FG_TMP/frames.py" "$1" "$FG_V_MAC_A" "$FG_A_MAC" "${@:2}"; }

# sniff_start SRC — a sniffer behind XDP on V's veth-a, for frames from SRC.
sniff_start() {
	rm -f "$FG_TMP/sniff.ready"
	fg_bg fg_in "$FG_V" "$FGNET" sniff --dev "$FG_V_IF_A" --seconds 4 --match-src "$1" \
		--ready-file "$FG_TMP/sniff.ready" >"$FG_TMP/sniff.out"
	SNIFF=$FG_LAST_PID
	fg_wait_file "$FG_TMP/sniff.ready" || fg_fail "sniffer did not start"
}
sniff_seen() {
	fg_wait_pid "$SNIFF" 10 || true
	fg_kv seen "$(<"$FG_TMP/sniff.out")"
}
inject() { fg_in "$FG_A" "$FGNET" raw --dev "$FG_A_IF" --hex "$1" --count "${2:-1}" --interval-ms 1 >/dev/null; }
# ipstat FIELD — V's kernel IP counter (/proc/net/snmp of V's namespace).
ipstat() {
	fg_in "$FG_V" cat /proc/net/snmp | awk -v f="$1" '
		$1 == "Ip:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Ip:" { print $col[f]; exit }'
}
stat0() { local v; v=$(fg_stat "$1" "$2"); echo "${v:-0}"; }

# --- 1. IPv4-mapped source ---------------------------------------------------------------
before=$(stat0 bad_source dropped)
sniff_start ::ffff:203.0.113.7
inject "$(frames udp6 ::ffff:203.0.113.7 "$FG_V_IP6_A")" $N
seen=$(sniff_seen)
dropped=$(($(stat0 bad_source dropped) - before))
fig="sent $N UDP frames from ::ffff:203.0.113.7 (203.0.113.0/24 denied), $seen seen behind XDP, bad_source drops $dropped"
if [ "$seen" = 0 ] && [ "$dropped" = "$N" ]; then held "mapped-source: $fig"; else brk "mapped-source: $fig"; fi

# --- 2. deny entries written IPv4-mapped -------------------------------------------------
# inject_all FILE — each line of FILE (a hex frame) once, in order.
inject_all() {
	local h
	while read -r h; do inject "$h"; done <"$1"
}
frames ack4 203.0.113.5 "$FG_V_IP4_A" 20000 $N >"$FG_TMP/ack4"
sniff_start 203.0.113.5
inject_all "$FG_TMP/ack4"
alone=$(sniff_seen)
listed=$(fg_ctl list deny 2>&1 | tr '\n' ' ')
ctl_out=$("$FLOODCTL" -s "$FG_SOCK" deny ::ffff:192.0.2.128/121 2>&1 &&
	"$FLOODCTL" -s "$FG_SOCK" deny 192.0.2.128/25 2>&1)
ctl_rc=$?
ctl_out=$(tail -1 <<<"$ctl_out")
sniff_start 203.0.113.5
inject_all "$FG_TMP/ack4"
after_ctl=$(sniff_seen)
printf 'deny:\n  - 203.0.113.0/24\n  - "::ffff:203.0.113.0/120"\n' >"$FG_TMP/dup.yaml"
check_out=$("$FLOODGATED" --check-config "$FG_TMP/dup.yaml" 2>&1)
check_rc=$?
fig="entry ::ffff:203.0.113.0/120 alone: $alone of $N ACKs from 203.0.113.5 seen behind XDP (list: ${listed% }); floodctl deny ::ffff:192.0.2.128/121 then 192.0.2.128/25: exit $ctl_rc '$ctl_out', then $after_ctl of $N seen; --check-config of both spellings: exit $check_rc '$(head -1 <<<"$check_out" | sed 's/^[^:]*:/FILE:/')'"
if [ "$alone" = 0 ] && [ "$after_ctl" = 0 ] && [ "$ctl_rc" = 1 ] && [ "$check_rc" != 0 ] &&
	grep -q "nothing added" <<<"$ctl_out" && grep -q "same entry" <<<"$check_out"; then
	held "mapped-deny-entry: $fig"
else
	brk "mapped-deny-entry: $fig"
fi

# --- 3. tiny first fragments ------------------------------------------------------------
src=198.51.100.200
reasm0=$(ipstat ReasmOKs)
tiny0=$(stat0 tiny_fragment dropped)
new0=$(stat0 new_flow passed)
frames tiny $src "$FG_V_IP4_A" 30000 $N >"$FG_TMP/tiny"
inject_all "$FG_TMP/tiny"
sleep 0.5
reasm=$(($(ipstat ReasmOKs) - reasm0))
tiny=$(($(stat0 tiny_fragment dropped) - tiny0))
newf=$(($(stat0 new_flow passed) - new0))
fig="sent $N SYNs from $src split after 8 bytes of TCP (per-source limit: rate 1, burst 2): V reassembled $reasm of them, tiny_fragment drops $tiny, new flows counted $newf"
if [ "$reasm" = 0 ] && [ "$tiny" = "$N" ]; then held "tiny-fragment: $fig"; else brk "tiny-fragment: $fig"; fi

exit $broke
