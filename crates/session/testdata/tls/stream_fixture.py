#!/usr/bin/env python3
"""Writes a stream fixture: one line per TCP segment with payload, in capture
order: `<frame> <c|s> <hex>` (c: from the connection's client). Checks that
each direction's concatenation equals `tshark -q -z follow,tcp,raw,N`."""
import subprocess, sys
pcap, stream, out = sys.argv[1], sys.argv[2], sys.argv[3]
rows = subprocess.run(["tshark", "-r", pcap, "-Y", f"tcp.stream eq {stream} and tcp.len > 0",
    "-T", "fields", "-e", "frame.number", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "tcp.payload"],
    capture_output=True, text=True, check=True).stdout.splitlines()
follow = subprocess.run(["tshark", "-r", pcap, "-q", "-z", f"follow,tcp,raw,{stream}"],
    capture_output=True, text=True, check=True).stdout.splitlines()
node0 = None
c, s = [], []
for line in follow:
    if line.startswith("Node 0: "):
        node0 = line[8:].strip()
    elif line and all(ch in "0123456789abcdef" for ch in line.strip()) and not line.startswith("="):
        (s if line.startswith("\t") else c).append(line.strip())
lines = []
cc, ss = [], []
for r in rows:
    f, ip4, ip6, port, payload = r.split("\t")
    ip = ip4 or ip6
    ep = f"{ip}:{port}" if ip4 else f"[{ip}]:{port}"
    d = "c" if ep == node0 else "s"
    (cc if d == "c" else ss).append(payload)
    lines.append(f"{f} {d} {payload}")
assert "".join(cc) == "".join(c), "client bytes differ from follow"
assert "".join(ss) == "".join(s), "server bytes differ from follow"
with open(out, "w") as fh:
    fh.write("\n".join(lines) + "\n")
print(out, len(lines), "segments", len("".join(cc))//2, len("".join(ss))//2)
