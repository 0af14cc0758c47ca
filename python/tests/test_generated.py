"""The committed protobuf modules are what generate_protos.py makes of proto/."""

import subprocess
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parents[1]


def test_generated_modules_are_current():
    pytest.importorskip("grpc_tools")
    if not (PYTHON_DIR.parent / "proto").is_dir():
        pytest.skip("not in the netcap repository (no proto/)")
    result = subprocess.run(
        [sys.executable, str(PYTHON_DIR / "generate_protos.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, (
        "python/src/netcap_records/proto is stale; run python3 python/generate_protos.py\n" + result.stdout
    )


def test_generated_code_matches_the_runtime():
    # Importing validates the gencode version against the installed runtime.
    import google.protobuf
    from netcap_records.proto import netcap_pb2

    text = Path(netcap_pb2.__file__).read_text()
    gencode = text.split("Protobuf Python Version: ", 1)[1].split()[0]
    assert gencode.split(".")[0] == google.protobuf.__version__.split(".")[0]
