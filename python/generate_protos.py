#!/usr/bin/env python3
"""Regenerates the protobuf modules of the Python package from proto/.

    python3 python/generate_protos.py           # write python/src/netcap_records/proto/
    python3 python/generate_protos.py --check   # exit 1 if the committed files differ

The generated code is committed (see python/README.md for why), so that
installing the package needs only the protobuf runtime. This script needs
grpcio-tools (protoc for Python), pinned in the package's ``test`` extra
because the output depends on protoc's version; the runtime requirement in
pyproject.toml must allow the "Protobuf Python Version" the files name.

protoc writes ``import netcap_pb2`` for ``import "netcap.proto"``; the
modules live in a package, so those imports are made package-relative.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PROTO_DIR = os.path.join(ROOT, "proto")
OUT_DIR = os.path.join(HERE, "src", "netcap_records", "proto")
KEEP = {"__init__.py"}


def proto_files():
    return sorted(f for f in os.listdir(PROTO_DIR) if f.endswith(".proto"))


def generate(out_dir):
    """Runs protoc into `out_dir`, then rewrites the cross-module imports."""
    cmd = [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_DIR}", f"--python_out={out_dir}",
           f"--pyi_out={out_dir}"] + [os.path.join(PROTO_DIR, f) for f in proto_files()]
    subprocess.run(cmd, check=True)
    modules = [f[: -len(".proto")] + "_pb2" for f in proto_files()]
    pattern = re.compile(r"^import (" + "|".join(map(re.escape, modules)) + r") as ", re.M)
    for name in sorted(os.listdir(out_dir)):
        path = os.path.join(out_dir, name)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        fixed = pattern.sub(r"from . import \1 as ", text)
        with open(path, "w", encoding="utf-8") as f:
            f.write(fixed)


def generated_files(directory):
    return sorted(f for f in os.listdir(directory) if f.endswith(("_pb2.py", "_pb2.pyi")))


def main(argv):
    check = "--check" in argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp)
        fresh = generated_files(tmp)
        if check:
            current = generated_files(OUT_DIR)
            stale = sorted(set(fresh) ^ set(current))
            for name in sorted(set(fresh) & set(current)):
                with open(os.path.join(tmp, name), encoding="utf-8") as a, \
                        open(os.path.join(OUT_DIR, name), encoding="utf-8") as b:
                    if a.read() != b.read():
                        stale.append(name)
            for name in stale:
                print(f"stale: python/src/netcap_records/proto/{name}")
            return 1 if stale else 0
        for name in generated_files(OUT_DIR):
            if name not in KEEP:
                os.remove(os.path.join(OUT_DIR, name))
        for name in fresh:
            shutil.copy(os.path.join(tmp, name), os.path.join(OUT_DIR, name))
            print(f"python/src/netcap_records/proto/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
