"""The reader on files made here: several frames with and without zstd
checksums, the end marker, and every kind of damage."""

import io
import struct

import pytest
import zstandard

import netcap_records as ncr
from netcap_records.proto import netcap_pb2

END_MAGIC = 0x184D2A5E


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def delimited(msg) -> bytes:
    data = msg.SerializeToString()
    return varint(len(data)) + data


def header() -> netcap_pb2.Header:
    return netcap_pb2.Header(
        record_type=netcap_pb2.RECORD_TYPE_TCP,
        schema_version=1,
        producer="test",
        source="made-up.pcap",
        link_types=[1],
        message_type="netcap.TCP",
    )


def tcp(frame: int) -> netcap_pb2.TCP:
    return netcap_pb2.TCP(
        timestamp_ns=1_700_000_000_000_000_000 + frame,
        frame=frame,
        src_ip=bytes([10, 0, 0, 1]),
        dst_ip=bytes(15) + b"\x01",
        src_port=40000 + frame,
        dst_port=443,
        seq=2**32 - frame,
        syn=frame % 2 == 0,
        mss=1460 if frame == 1 else None,
    )


def end_marker(count: int) -> bytes:
    return struct.pack("<II", END_MAGIC, 16) + b"NCAPEND\0" + struct.pack("<Q", count)


def frame(payload: bytes, checksum: bool) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=checksum).compress(payload)


def record_file(batches, *, checksums=(True, False), finish=True) -> bytes:
    """A header frame then one frame per batch of frame numbers, checksums
    alternating as given, then the end marker."""
    out = frame(delimited(header()), checksums[0])
    count = 0
    for i, batch in enumerate(batches):
        out += frame(b"".join(delimited(tcp(n)) for n in batch), checksums[(i + 1) % len(checksums)])
        count += len(batch)
    return out + (end_marker(count) if finish else b"")


BATCHES = [[1, 2, 3], [4], list(range(5, 40))]


def read(data: bytes, **kw):
    return ncr.RecordFile(io.BytesIO(data), **kw)


def test_all_frames_are_read_with_and_without_checksums(tmp_path):
    for checksums in [(True,), (False,), (True, False), (False, True)]:
        data = record_file(BATCHES, checksums=checksums)
        f = read(data)
        assert f.header == header()
        assert f.message_class is netcap_pb2.TCP
        frames = [m.frame for m in f]
        assert frames == list(range(1, 40)), checksums
        assert f.complete and f.records_read == 39
    path = tmp_path / "TCP.ncap.zst"
    path.write_bytes(record_file(BATCHES))
    messages = ncr.read_messages(path)
    assert messages[0] == tcp(1)
    assert messages[0].HasField("mss") and not messages[1].HasField("mss")
    assert messages[38].seq == 2**32 - 39


def test_one_shot_decompress_would_see_only_the_first_frame():
    # The trap the package avoids: zstandard's decompress() stops after a frame.
    data = record_file(BATCHES)
    first = zstandard.ZstdDecompressor().decompress(data)
    assert first == delimited(header())


def test_dicts_render_addresses_enums_and_unset_fields():
    f = read(record_file([[1, 2]]))
    rows = ncr.to_dicts(f)
    assert rows[0]["src_ip"] == "10.0.0.1"
    assert rows[0]["dst_ip"] == "::1"
    assert rows[0]["mss"] == 1460 and rows[1]["mss"] is None
    assert rows[0]["tunnel"] is None
    assert rows[0]["seq"] == 2**32 - 1
    assert rows[1]["syn"] is True
    assert ncr.address_text("ip", bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1])) == "::ffff:192.0.2.1"
    assert ncr.address_text("ip", bytes.fromhex("20010db8000000000000000000000001")) == "2001:db8::1"
    assert ncr.address_text("mac", bytes.fromhex("001b21abcdef")) == "00:1b:21:ab:cd:ef"
    assert ncr.address_kind("src_proto_addr") == "ip" and ncr.address_kind("dst_hw_addr") == "mac"
    assert ncr.address_kind("source_macs") == "mac"
    assert ncr.address_kind("payload") is None


def test_record_classes_resolve_by_any_name():
    assert ncr.message_class("TCP") is netcap_pb2.TCP
    assert ncr.message_class("netcap.TCP") is netcap_pb2.TCP
    assert ncr.message_class("RECORD_TYPE_TCP") is netcap_pb2.TCP
    assert ncr.message_class(6) is netcap_pb2.TCP
    # Classes of the other generated modules.
    assert ncr.message_class("DNS").DESCRIPTOR.file.name == "application.proto"
    assert ncr.message_class("LLC").DESCRIPTOR.file.name == "link.proto"
    assert ncr.message_class("Flow").DESCRIPTOR.file.name == "flow.proto"
    assert ncr.message_class("SpotStat").DESCRIPTOR.file.name == "spot.proto"
    # Every record type of the enum has a class.
    names = [v.name for v in netcap_pb2.RecordType.DESCRIPTOR.values if v.number != 0]
    assert len(ncr.RECORD_TYPES) == len(names)
    with pytest.raises(KeyError):
        ncr.message_class("NoSuchRecord")


def test_missing_end_marker_is_truncation_unless_lenient():
    data = record_file(BATCHES, finish=False)
    f = read(data)
    got = []
    with pytest.raises(ncr.TruncatedError, match="without netcap's end marker"):
        for m in f:
            got.append(m.frame)
    assert got == list(range(1, 40))
    f = read(data, strict=False)
    assert len(list(f)) == 39 and not f.complete


def test_cut_inside_a_frame_yields_the_complete_frames_first():
    data = record_file(BATCHES)
    cut = len(data) - len(end_marker(0)) - 10
    f = read(data[:cut])
    got = []
    with pytest.raises(ncr.TruncatedError, match=r"frame 3 \(at byte \d+\) is cut short"):
        for m in f:
            got.append(m.frame)
    assert got == [1, 2, 3, 4]


def test_damaged_frame_is_reported_with_index_and_offset():
    head = frame(delimited(header()), True)
    good = frame(delimited(tcp(1)), True)
    bad = bytearray(frame(b"".join(delimited(tcp(n)) for n in range(2, 30)), True))
    bad[-1] ^= 0x55  # the content checksum
    data = head + good + bytes(bad) + end_marker(29)
    f = read(data)
    got = []
    with pytest.raises(ncr.CorruptError, match=rf"corrupt frame 2 \(at byte {len(head) + len(good)}\)"):
        for m in f:
            got.append(m.frame)
    assert got == [1]


def test_end_marker_count_must_match():
    data = record_file(BATCHES)[: -len(end_marker(0))] + end_marker(38)
    with pytest.raises(ncr.CorruptError, match="end marker counts 38 records, the file holds 39"):
        list(read(data))


def test_header_only_empty_and_directory(tmp_path):
    only = frame(delimited(header()), True) + end_marker(0)
    f = read(only)
    assert list(f) == [] and f.complete
    with pytest.raises(ncr.TruncatedError, match="no header"):
        read(b"")
    with pytest.raises(IsADirectoryError):
        ncr.open(tmp_path)
    with pytest.raises(ncr.CorruptError):
        read(frame(b"\x05\xff\xff\xff\xff\xff", True))


def test_oversized_length_prefix_is_corrupt():
    data = frame(delimited(header()) + varint(65 << 20) + b"x", True)
    with pytest.raises(ncr.CorruptError, match="over 64 MiB"):
        list(read(data))


def test_every_cut_and_every_flipped_byte_ends_in_a_record_file_error():
    data = record_file([[1, 2], [3]])
    whole = [m.frame for m in read(data)]
    for cut in range(len(data)):
        got = []
        try:
            for m in read(data[:cut]):
                got.append(m.frame)
        except ncr.RecordFileError:
            pass
        assert got == whole[: len(got)], cut
        if cut < len(data):
            assert len(got) <= len(whole)
    for i in range(len(data)):
        damaged = bytearray(data)
        damaged[i] ^= 0xFF
        try:
            for m in read(bytes(damaged)):
                assert isinstance(m, netcap_pb2.TCP)
        except ncr.RecordFileError:
            pass
