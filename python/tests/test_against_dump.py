"""The package reads every record file of a capture exactly as `netcap dump
-json` prints it, field by field.

How `dump -json` renders values, and how the comparison maps them:
- addresses (bytes fields named ip/*_ip/*_ips/*_proto_addr, mac/*_mac/*_macs/
  *_hw_addr) as text: compared with the package's text (to_dict's default);
- other bytes as base64 (the proto3 JSON mapping): decoded and compared;
- 64-bit integers as JSON numbers: compared as Python ints (exact);
- protobuf enums by name, or by number with `dump -numeric`: either is
  accepted, checked against the enum; a name may be shortened by dump
  (`FIN` for `TERMINATION_REASON_FIN`);
- integer fields that dump names (the lead is teaching dump to print e.g.
  DNS types as `A`, with `-numeric` keeping numbers): `-numeric` is used when
  this netcap has it, and then every integer must match; without it, a name
  where the package has a number is accepted and counted;
- floats: NaN and infinities as JSON strings;
- unset optional fields and absent messages are left out by dump and None in
  the package's dicts.
"""

import base64
import json
import math
import subprocess

import pytest

import netcap_records as ncr
from google.protobuf.descriptor import FieldDescriptor as FD

INTS = {FD.TYPE_INT32, FD.TYPE_INT64, FD.TYPE_UINT32, FD.TYPE_UINT64, FD.TYPE_SINT32, FD.TYPE_SINT64,
        FD.TYPE_FIXED32, FD.TYPE_FIXED64, FD.TYPE_SFIXED32, FD.TYPE_SFIXED64}
FLOATS = {FD.TYPE_FLOAT, FD.TYPE_DOUBLE}


def dump_has_numeric(netcap) -> bool:
    help_text = subprocess.run([str(netcap), "dump", "--help"], capture_output=True, text=True).stdout
    return "-numeric" in help_text


class Comparison:
    def __init__(self, numeric: bool):
        self.numeric = numeric
        self.values = 0
        self.named_ints = 0

    def message(self, desc, ours: dict, theirs: dict, where: str):
        assert isinstance(theirs, dict), f"{where}: dump printed {theirs!r} for a message"
        unknown = set(theirs) - set(desc.fields_by_name)
        assert not unknown, f"{where}: dump printed fields the schema lacks: {sorted(unknown)}"
        for field in desc.fields:
            value = ours[field.name]
            at = f"{where}.{field.name}"
            if field.name not in theirs:
                assert value in (None, [], {}), f"{at}: dump left out {value!r}"
                continue
            self.field(field, value, theirs[field.name], at)

    def field(self, field, ours, theirs, where):
        is_map = field.type == FD.TYPE_MESSAGE and field.message_type.GetOptions().map_entry
        if is_map:
            value_field = field.message_type.fields_by_name["value"]
            assert sorted(map(str, ours)) == sorted(theirs), f"{where}: map keys differ"
            for k, v in ours.items():
                self.single(value_field, v, theirs[str(k)], f"{where}[{k}]")
        elif ncr.convert._is_repeated(field):
            assert isinstance(theirs, list), f"{where}: dump printed {theirs!r} for a list"
            assert len(ours) == len(theirs), f"{where}: {len(ours)} items, dump has {len(theirs)}"
            for i, (a, b) in enumerate(zip(ours, theirs)):
                self.single(field, a, b, f"{where}[{i}]")
        else:
            assert ours is not None, f"{where}: unset in the package, dump printed {theirs!r}"
            self.single(field, ours, theirs, where)

    def single(self, field, ours, theirs, where):
        self.values += 1
        t = field.type
        if t == FD.TYPE_MESSAGE:
            self.message(field.message_type, ours, theirs, where)
        elif t == FD.TYPE_BYTES:
            if ncr.address_kind(field.name):
                assert ours == theirs, f"{where}: address {ours!r}, dump {theirs!r}"
            else:
                assert base64.b64decode(theirs) == ours, f"{where}: bytes {ours!r}, dump {theirs!r}"
        elif t == FD.TYPE_ENUM:
            enum = field.enum_type
            if isinstance(theirs, int):
                assert enum.values_by_name[ours].number == theirs, f"{where}: {ours}, dump {theirs}"
            else:
                # dump may leave out the enum's prefix (FIN for TERMINATION_REASON_FIN).
                assert ours == theirs or ours.endswith("_" + theirs), f"{where}: {ours}, dump {theirs}"
        elif t in INTS:
            if isinstance(theirs, str) and not self.numeric and not theirs.lstrip("-").isdigit():
                self.named_ints += 1  # dump printed a name for the number
                return
            assert isinstance(theirs, int) and not isinstance(theirs, bool) and ours == theirs, \
                f"{where}: {ours!r}, dump {theirs!r}"
        elif t in FLOATS:
            if isinstance(theirs, str):
                expected = float(theirs.replace("Infinity", "inf"))
            else:
                expected = float(theirs)
            if math.isnan(expected):
                assert math.isnan(ours), f"{where}: {ours!r}, dump {theirs!r}"
            else:
                assert math.isclose(ours, expected, rel_tol=1e-6, abs_tol=1e-30), f"{where}: {ours}, dump {theirs}"
        else:  # bool, string
            assert ours == theirs, f"{where}: {ours!r}, dump {theirs!r}"


def dump_json(netcap, path, numeric):
    cmd = [str(netcap), "dump", "-read", str(path), "-json"] + (["-numeric"] if numeric else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line]


def test_every_record_file_of_a_mixed_capture_matches_dump_json(netcap, capture_dir):
    numeric = dump_has_numeric(netcap)
    files = ncr.record_files(capture_dir)
    assert {"Ethernet", "IPv4", "TCP", "UDP", "DNS", "HTTP", "TLSClientHello", "Flow"} <= set(files)
    total = 0
    cmp = Comparison(numeric)
    for name, path in files.items():
        with ncr.open(path) as f:
            assert f.header.message_type == f"netcap.{name}"
            assert f.message_class.DESCRIPTOR.name == name
            messages = list(f)
            assert f.complete and f.records_read == len(messages)
        theirs = dump_json(netcap, path, numeric)
        assert len(messages) == len(theirs), f"{name}: {len(messages)} records, dump printed {len(theirs)}"
        assert messages, f"{name}: no records"
        for i, (msg, line) in enumerate(zip(messages, theirs)):
            ours = ncr.to_dict(msg)
            cmp.message(msg.DESCRIPTOR, ours, line, f"{name}[{i}]")
        total += len(messages)
    print(f"\n{len(files)} files, {total} records, {cmp.values} values agree with dump -json "
          f"(numeric={numeric}, integers dump named: {cmp.named_ints})")
    assert total > 10000


def test_read_dir_dicts_and_dataframe_agree(capture_dir):
    messages = ncr.read_dir(capture_dir)
    dicts = ncr.read_dir(capture_dir, as_="dicts")
    assert messages.keys() == dicts.keys()
    for name in messages:
        assert [ncr.to_dict(m) for m in messages[name]] == dicts[name]
    pd = pytest.importorskip("pandas")
    df = ncr.read_dataframe(capture_dir / "TCP.ncap.zst")
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(messages["TCP"])
    assert list(df.columns) == [f.name for f in ncr.message_class("TCP").DESCRIPTOR.fields]
    first = messages["TCP"][0]
    assert df["frame"].iloc[0] == first.frame
    assert df["timestamp_ns"].iloc[0] == first.timestamp_ns
    assert df["src_port"].iloc[0] == first.src_port
    assert df["src_ip"].iloc[0] == ncr.address_text("ip", first.src_ip)
    # Numbers instead of names, bytes instead of text.
    raw = ncr.read_dicts(capture_dir / "TCP.ncap.zst", addresses=False, enums="number")[0]
    assert raw["src_ip"] == first.src_ip
    header = ncr.read_header(capture_dir / "TCP.ncap.zst")
    assert header.record_type == ncr.proto.netcap_pb2.RECORD_TYPE_TCP
    assert ncr.to_dict(header)["record_type"] == "RECORD_TYPE_TCP"
    assert ncr.to_dict(header, enums="number")["record_type"] == 6
