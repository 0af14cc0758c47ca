"""Shared fixtures: the netcap binary and a capture of a mixed testdata file."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: A mixed-traffic capture of testdata (several captures merged: Ethernet,
#: VLAN, ARP, CDP/LLC/SNAP, IPv4/IPv6, TCP/UDP/ICMP, DNS, DHCPv6, SSDP,
#: HTTP with files, TLS with certificates, flows and connections).
MIXED_CAPTURE = REPO / "testdata" / "pcaps" / "pcapplusplus-many-protocols.pcap"


def netcap_binary() -> Path:
    """$NETCAP_BIN, else the debug build of this checkout."""
    configured = os.environ.get("NETCAP_BIN")
    path = Path(configured) if configured else REPO / "target" / "debug" / "netcap"
    if not path.is_file():
        pytest.fail(f"no netcap binary at {path}: run `cargo build` first or set NETCAP_BIN")
    return path


@pytest.fixture(scope="session")
def netcap() -> Path:
    return netcap_binary()


@pytest.fixture(scope="session")
def capture_dir(netcap, tmp_path_factory) -> Path:
    """The record files `netcap capture` writes for MIXED_CAPTURE."""
    out = tmp_path_factory.mktemp("capture")
    subprocess.run(
        [str(netcap), "capture", "-read", str(MIXED_CAPTURE), "-out", str(out), "-quiet"],
        check=True,
        capture_output=True,
    )
    files = sorted(out.glob("*.ncap.zst"))
    assert len(files) >= 10, f"capture wrote only {[f.name for f in files]}"
    return out
