"""Tests of jobpack.home: the C ZIP scanner against zipfile, build, extract."""
import io
import mmap
import os
import stat
import struct
import time
import zipfile
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobpack import home
from jobpack.errors import ZipError


# ---------------------------------------------------------------- helpers


def make_zip(members, *, comment=b"", mode_bits=None):
    """members: (name, data, method) triples, written with zipfile."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, method in members:
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 2, 3, 4, 6))
            info.create_system = 3
            info.external_attr = (mode_bits if mode_bits is not None else
                                  (stat.S_IFDIR | 0o755 if name.endswith("/")
                                   else stat.S_IFREG | 0o644)) << 16
            info.compress_type = method
            zf.writestr(info, data)
        zf.comment = comment
    return buf.getvalue()


def rename(data: bytes, old: bytes, new: bytes) -> bytes:
    """Replace a name (same length) in both the local and central headers."""
    assert len(old) == len(new) and data.count(old) == 2
    return data.replace(old, new)


def reference_flags(raw: bytes) -> int:
    flags = 0
    if raw[:1] in (b"/", b"\\") or (len(raw) >= 2 and raw[1:2] == b":"
                                     and raw[:1].isalpha()):
        flags |= home.ABSOLUTE
    if b".." in raw.replace(b"\\", b"/").split(b"/"):
        flags |= home.DOTDOT
    if b"\\" in raw:
        flags |= home.BACKSLASH
    if b"\0" in raw:
        flags |= home.NUL
    if raw.endswith(b"/"):
        flags |= home.DIRECTORY
    return flags


def check_against_zipfile(data: bytes) -> None:
    ours = home.entries(data)
    summary = home.scan(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        theirs = zf.infolist()
        assert summary.entries == len(ours) == len(theirs)
        assert summary.total_uncompressed == sum(i.file_size for i in theirs)
        assert summary.total_compressed == sum(i.compress_size for i in theirs)
        union = 0
        for o, t in zip(ours, theirs):
            assert o.name == t.filename
            assert o.size == t.file_size
            assert o.compressed_size == t.compress_size
            assert o.crc32 == t.CRC
            assert o.method == t.compress_type
            assert o.header_offset == t.header_offset
            assert o.is_dir == t.is_dir()
            assert o.mode == ((t.external_attr >> 16) or None)
            assert o.flags == reference_flags(o.raw_name)
            union |= o.flags
            raw = data[o.data_offset:o.data_offset + o.compressed_size]
            body = raw if o.method == 0 else zlib.decompress(raw, -15)
            assert body == zf.read(t)
            assert home.contains(data, o.name)
        assert summary.flags_union == union


# ---------------------------------------------------------------- scan vs zipfile

component = st.text(alphabet="abcXYZ019-_.é日", min_size=1, max_size=8)
member = st.tuples(
    st.lists(component, min_size=1, max_size=4).map("/".join),
    st.booleans(),                                    # directory?
    st.binary(max_size=300),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(member, max_size=12, unique_by=lambda m: m[0]),
       st.binary(max_size=60).filter(lambda c: b"PK\x05\x06" not in c))
def test_agrees_with_zipfile(members, comment):
    triples = [(name + "/", b"", zipfile.ZIP_STORED) if is_dir else (name, body, method)
               for name, is_dir, body, method in members]
    check_against_zipfile(make_zip(triples, comment=comment))


def test_empty_buffer_is_empty_archive():
    for empty in (b"", bytearray(), memoryview(b"")):
        s = home.scan(empty)
        assert (s.entries, s.total_uncompressed, s.first_flagged) == (0, 0, None)
        assert home.entries(empty) == []
        assert not home.contains(empty, "x")


def test_empty_zipfile_archive():
    data = make_zip([])
    assert len(data) == 22
    assert home.scan(data).entries == 0


def test_bytes_like_inputs_and_mmap(tmp_path):
    data = make_zip([("a.txt", b"hello", zipfile.ZIP_DEFLATED)])
    path = tmp_path / "h.zip"
    path.write_bytes(data)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        view = memoryview(m)
        assert home.scan(view).entries == 1
        assert home.entries(view)[0].name == "a.txt"
        assert home.contains(view, "a.txt")
        view.release()
    assert home.scan(bytearray(data)).entries == 1


def test_ten_thousand_entries():
    n = 10_000
    data = make_zip([(f"d{i % 7}/f{i:05d}.py", b"x" * (i % 5), zipfile.ZIP_STORED)
                     for i in range(n)])
    s = home.scan(data)
    assert s.entries == n
    assert s.total_uncompressed == sum(i % 5 for i in range(n))
    items = home.entries(data)
    assert [e.name for e in items] == zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert home.contains(data, "d0/f09999.py") is False
    assert home.contains(data, "d3/f09999.py") is True

    def median(fn, repeat=7):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return sorted(times)[repeat // 2]

    ours = median(lambda: home.scan(data))
    theirs = median(lambda: zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert theirs / ours > 10, (ours, theirs)


# ---------------------------------------------------------------- corrupt input


SMALL = make_zip([("dir/", b"", zipfile.ZIP_STORED),
                  ("dir/a.txt", b"hello world " * 10, zipfile.ZIP_DEFLATED),
                  ("b", b"xyz", zipfile.ZIP_STORED)], comment=b"hi")


def scan_everything(data) -> None:
    """Every public reader either succeeds or raises ZipError."""
    try:
        home.scan(data)
    except ZipError as exc:
        assert exc.offset is None or 0 <= exc.offset <= len(data)
        with pytest.raises(ZipError):
            home.entries(data)
        return
    items = home.entries(data)
    for e in items:
        assert 0 <= e.data_offset <= e.data_offset + e.compressed_size <= len(data)
        assert home.contains(data, e.name)


def test_every_truncation():
    for cut in range(len(SMALL)):
        scan_everything(SMALL[:cut])
        scan_everything(SMALL[cut:])


def test_every_single_byte_corruption():
    for pos in range(len(SMALL)):
        for value in {0x00, 0xFF, SMALL[pos] ^ 0x01, SMALL[pos] ^ 0x80}:
            corrupt = bytearray(SMALL)
            corrupt[pos] = value
            scan_everything(bytes(corrupt))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SMALL) - 1), st.integers(0, 255)),
                min_size=1, max_size=6))
def test_random_corruptions(edits):
    corrupt = bytearray(SMALL)
    for pos, value in edits:
        corrupt[pos] = value
    scan_everything(bytes(corrupt))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes(junk):
    scan_everything(junk)
    scan_everything(junk + SMALL[-22:])


def test_errors_are_jobpack_errors_with_offsets():
    with pytest.raises(ZipError) as info:
        home.scan(b"not a zip at all, not at all.")
    assert info.value.offset == 29  # searched back from the end: none in all 29 bytes
    assert "end-of-central-directory" in str(info.value)
    # directory offset pointing past the end
    bad = bytearray(SMALL)
    eocd = bad.rfind(b"PK\x05\x06")
    struct.pack_into("<I", bad, eocd + 16, len(bad))
    with pytest.raises(ZipError, match="central directory"):
        home.scan(bytes(bad))
    # local header offset pointing past the directory
    bad = bytearray(SMALL)
    cd = bad.find(b"PK\x01\x02")
    struct.pack_into("<I", bad, cd + 42, 0xFFFFFFF0)
    with pytest.raises(ZipError, match="local header") as info:
        home.scan(bytes(bad))
    assert info.value.offset == cd


def test_count_larger_than_directory_can_hold():
    bad = bytearray(SMALL)
    eocd = bad.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", bad, eocd + 8, 0xFFFF, 0xFFFF)
    with pytest.raises(ZipError, match="central directory"):
        home.scan(bytes(bad))


def test_count_and_size_must_agree():
    bad = bytearray(SMALL)
    eocd = bad.rfind(b"PK\x05\x06")
    struct.pack_into("<HH", bad, eocd + 8, 2, 2)  # three entries in the directory
    with pytest.raises(ZipError):
        home.scan(bytes(bad))


def test_local_name_must_match_central_name():
    bad = bytearray(SMALL)
    name_at = SMALL.rfind(b"PK\x03\x04") + 30  # local header of "b"
    assert bad[name_at:name_at + 1] == b"b"
    bad[name_at] = ord("c")
    with pytest.raises(ZipError, match="name differs"):
        home.scan(bytes(bad))


# ---------------------------------------------------------------- flags


@pytest.mark.parametrize("name, flags", [
    ("/abs", home.ABSOLUTE),
    ("\\abs", home.ABSOLUTE | home.BACKSLASH),
    ("../x", home.DOTDOT),
    ("a/../b", home.DOTDOT),
    ("a/..", home.DOTDOT),
    ("a\\..\\b", home.DOTDOT | home.BACKSLASH),
    ("a\\b", home.BACKSLASH),
    ("C:/x", home.ABSOLUTE),
    ("c:x", home.ABSOLUTE),
    ("1:x", 0),
    ("a..b/..c/d..", 0),
    ("..", home.DOTDOT),
    ("x/../", home.DOTDOT | home.DIRECTORY),
    ("...", 0),
    ("a/.../b", 0),
    ("a./.b/.", 0),
    ("a/b/c..", 0),
    ("./../a", home.DOTDOT),
    ("./ok", 0),
    ("dir/", home.DIRECTORY),
])
def test_name_flags(name, flags):
    data = make_zip([("ok.txt", b"1", zipfile.ZIP_STORED), (name, b"", zipfile.ZIP_STORED)])
    items = home.entries(data)
    assert items[1].flags == flags
    s = home.scan(data)
    assert s.flags_union == flags
    assert s.first_flagged == (1 if flags & home.UNSAFE else None)
    assert items[1].unsafe == bool(flags & home.UNSAFE)
    assert home.contains(data, name)


def test_nul_flag():
    data = rename(make_zip([("aXb", b"", zipfile.ZIP_STORED)]), b"aXb", b"a\0b")
    (e,) = home.entries(data)
    assert e.raw_name == b"a\0b" and e.has_nul and e.flags == home.NUL
    assert home.scan(data).first_flagged == 0


def test_symlink_and_encrypted_flags():
    data = make_zip([("link", b"/etc/passwd", zipfile.ZIP_STORED)],
                    mode_bits=stat.S_IFLNK | 0o777)
    (e,) = home.entries(data)
    assert e.is_symlink and e.flags == home.SYMLINK
    assert home.scan(data).first_flagged is None  # a link is not a bad name
    bad = bytearray(make_zip([("x", b"1", zipfile.ZIP_STORED)]))
    cd = bad.find(b"PK\x01\x02")
    bad[cd + 8] |= 1
    (e,) = home.entries(bytes(bad))
    assert e.is_encrypted


def test_cp437_and_utf8_names():
    data = make_zip([("é", b"1", zipfile.ZIP_STORED)])
    assert home.entries(data)[0].name == "é"
    # without the UTF-8 flag, bytes are cp437 (zipfile's rule)
    bad = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = bad.find(sig)
        struct.pack_into("<H", bad, at + off, 0)
    (e,) = home.entries(bytes(bad))
    assert e.name == b"\xc3\xa9".decode("cp437") == zipfile.ZipFile(io.BytesIO(bytes(bad))).namelist()[0]
    assert home.contains(bytes(bad), e.name)
    assert not home.contains(bytes(bad), "é")


# ---------------------------------------------------------------- zip64


def test_zip64_local_extra():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for name in ("a", "b/c"):
            with zf.open(name, "w", force_zip64=True) as f:
                f.write(name.encode() * 100)
    check_against_zipfile(buf.getvalue())


def test_zip64_central_extra_and_end_record(monkeypatch):
    # Shrink zipfile's limits so that a small archive uses every ZIP64
    # structure: 0xFFFFFFFF sizes and offsets in the directory, the ZIP64
    # end record and its locator.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 10)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for i in range(4):
            zf.writestr(f"f{i}.txt", b"0123456789abcdef" * (i + 1))
    monkeypatch.undo()
    data = buf.getvalue()
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data
    cd = data.find(b"PK\x01\x02")
    assert struct.unpack_from("<II", data, cd + 20) == (0xFFFFFFFF, 0xFFFFFFFF)
    check_against_zipfile(data)
    for cut in range(len(data)):
        scan_everything(data[:cut])
    for pos in range(data.find(b"PK\x01\x02"), len(data)):
        corrupt = bytearray(data)
        corrupt[pos] ^= 0xFF
        scan_everything(bytes(corrupt))


# ---------------------------------------------------------------- build


def make_tree(root, files):
    for rel, (body, mode) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        path.chmod(mode)


TREE = {
    "job.py": (b"print('hi')\n" * 50, 0o755),
    "lib/util.py": (b"x = 1\n", 0o644),
    "lib/deep/data.bin": (bytes(range(256)) * 4, 0o600),
    "empty": (b"", 0o640),
    "z-last": (b"z", 0o644),
}


def test_build_is_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    make_tree(a, TREE)
    make_tree(b, dict(reversed(list(TREE.items()))))  # different creation order
    os.utime(a / "job.py", (1, 1))
    first = home.build(a)
    os.utime(a / "job.py", (2_000_000_000, 2_000_000_000))
    (a / "lib").chmod(0o755)
    (b / "lib").chmod(0o755)
    assert home.build(a) == first == home.build(b)
    names = [e.name for e in home.entries(first)]
    assert names == sorted(names)
    assert names == ["empty", "job.py", "lib/", "lib/deep/", "lib/deep/data.bin",
                     "lib/util.py", "z-last"]
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        assert zf.testzip() is None
    check_against_zipfile(first)


def test_build_keeps_modes(tmp_path):
    make_tree(tmp_path, TREE)
    by_name = {e.name: e for e in home.entries(home.build(tmp_path))}
    for rel, (_, mode) in TREE.items():
        assert by_name[rel].mode == stat.S_IFREG | mode
    assert stat.S_ISDIR(by_name["lib/"].mode)


def test_build_stored(tmp_path):
    make_tree(tmp_path, TREE)
    data = home.build(tmp_path, compression=zipfile.ZIP_STORED)
    assert {e.method for e in home.entries(data)} == {0}


def test_build_symlinks(tmp_path):
    root = tmp_path / "home"
    make_tree(root, {"real.py": (b"code", 0o755)})
    (root / "alias.py").symlink_to("real.py")
    by_name = {e.name: e for e in home.entries(home.build(root))}
    assert not by_name["alias.py"].is_symlink
    assert by_name["alias.py"].size == 4
    (tmp_path / "secret").write_bytes(b"s")
    (root / "leak").symlink_to(tmp_path / "secret")
    with pytest.raises(ZipError, match="outside"):
        home.build(root)


# ---------------------------------------------------------------- extract


def listing(root):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st_ = os.lstat(path)
            body = None if stat.S_ISDIR(st_.st_mode) else open(path, "rb").read()
            out[rel] = (body, stat.S_IMODE(st_.st_mode))
    return out


def test_round_trip(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    make_tree(src, TREE)
    (src / "lib" / "deep").chmod(0o750)
    data = home.build(src)
    names = home.extract(data, dst)
    assert names == [e.name for e in home.entries(data)]
    assert listing(dst) == listing(src)
    # extracting again over the same tree is fine
    home.extract(data, dst)
    assert listing(dst) == listing(src)


@pytest.mark.parametrize("name", ["/abs", "../evil", "a/../../evil", "a\\..\\evil",
                                  "C:/evil", "sub/\\evil"])
def test_extract_refuses_traversal(tmp_path, name):
    target = tmp_path / "target"
    data = make_zip([("fine.txt", b"ok", zipfile.ZIP_STORED), (name, b"bad", zipfile.ZIP_STORED)])
    with pytest.raises(ZipError):
        home.extract(data, target)
    assert [p.name for p in tmp_path.iterdir()] in ([], ["target"])
    assert not target.exists() or not any(target.iterdir())


def test_extract_refuses_nul_and_symlink(tmp_path):
    nul = rename(make_zip([("aXb", b"", zipfile.ZIP_STORED)]), b"aXb", b"a\0b")
    link = make_zip([("link", b"/etc", zipfile.ZIP_STORED)], mode_bits=stat.S_IFLNK | 0o777)
    for data in (nul, link):
        with pytest.raises(ZipError):
            home.extract(data, tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_extract_does_not_follow_existing_symlinks(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "sub").symlink_to(outside)
    (target / "f").symlink_to(outside / "f")
    with pytest.raises(ZipError, match="cannot extract"):
        home.extract(make_zip([("sub/x", b"1", zipfile.ZIP_STORED)]), target)
    home.extract(make_zip([("f", b"1", zipfile.ZIP_STORED)]), target)  # replaces the link
    assert not (target / "f").is_symlink() and (target / "f").read_bytes() == b"1"
    assert list(outside.iterdir()) == []


def test_extract_refuses_lying_size_bomb(tmp_path):
    payload = b"\0" * (8 << 20)
    data = bytearray(make_zip([("bomb", payload, zipfile.ZIP_DEFLATED)]))
    assert len(data) < 20_000
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(sig)
        struct.pack_into("<I", data, at + off, 1000)  # "1000 bytes, honest"
    data = bytes(data)
    assert home.scan(data).total_uncompressed == 1000
    target = tmp_path / "t"
    with pytest.raises(ZipError, match="declared size"):
        home.extract(data, target)
    assert list(target.iterdir()) == []  # the partial file is removed


def test_extract_refuses_declared_bomb(tmp_path):
    data = make_zip([("big", b"\0" * (1 << 20), zipfile.ZIP_DEFLATED)])
    s = home.scan(data)
    assert home.expands_too_much(s, len(data), floor=0)
    assert not home.expands_too_much(s, len(data))  # under the 64 MiB floor
    with pytest.raises(ZipError, match="limit"):
        home.extract(data, tmp_path / "a", max_total_size=1000)
    assert home.extract(data, tmp_path / "c") == ["big"]
    # a header that declares 100 MiB in a 1 kB archive is refused up front
    bomb = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        struct.pack_into("<I", bomb, bomb.find(sig) + off, 100 << 20)
    bomb = bytes(bomb)
    assert home.expands_too_much(home.scan(bomb), len(bomb))
    with pytest.raises(ZipError, match="zip bomb"):
        home.extract(bomb, tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    # without the ratio check, the short data is caught while inflating
    with pytest.raises(ZipError, match="header says"):
        home.extract(bomb, tmp_path / "d", max_ratio=None)
    assert list((tmp_path / "d").iterdir()) == []


def test_extract_refuses_bad_crc_and_duplicates(tmp_path):
    data = bytearray(make_zip([("x", b"hello", zipfile.ZIP_STORED)]))
    data[data.find(b"hello")] = ord("j")
    with pytest.raises(ZipError, match="CRC"):
        home.extract(bytes(data), tmp_path / "a")
    dup = make_zip([("x", b"1", zipfile.ZIP_STORED), ("./x", b"2", zipfile.ZIP_STORED)])
    with pytest.raises(ZipError, match="duplicate"):
        home.extract(dup, tmp_path / "b")
    under = make_zip([("x", b"1", zipfile.ZIP_STORED), ("x/y", b"2", zipfile.ZIP_STORED)])
    with pytest.raises(ZipError, match="under the file"):
        home.extract(under, tmp_path / "c")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.lists(st.text(alphabet="abc.é", min_size=1, max_size=4)
                                .filter(lambda s: s not in (".", "..")),
                                min_size=1, max_size=3).map("/".join),
                       st.tuples(st.binary(max_size=200), st.sampled_from([0o644, 0o755, 0o600])),
                       max_size=6))
def test_round_trip_property(tmp_path_factory, tree):
    # drop paths that are a prefix directory of another path
    names = sorted(tree)
    tree = {n: v for n, v in tree.items()
            if not any(o.startswith(n + "/") for o in names)}
    src = tmp_path_factory.mktemp("src")
    make_tree(src, tree)
    data = home.build(src)
    assert home.build(src) == data
    dst = tmp_path_factory.mktemp("dst")
    home.extract(data, dst)
    assert listing(dst) == listing(src)


def test_contains_compares_every_byte_of_short_names():
    # A lookup must compare the name, not just its length: one-byte and empty
    # names are the edge (a length match alone would say yes).
    data = make_zip([("a", b"1", zipfile.ZIP_STORED), ("bc", b"2", zipfile.ZIP_STORED)])
    assert home.contains(data, "a") and home.contains(data, "bc")
    for absent in ("b", "c", "ab", "cb", ""):
        assert not home.contains(data, absent), absent


def test_eocd_is_the_record_whose_comment_ends_the_archive():
    # A comment may itself hold an end-of-central-directory signature.  The
    # real record is the one whose comment length reaches the end of the
    # archive exactly; a nearer look-alike is only a fallback.
    fake = b"PK\x05\x06" + b"\0" * 18 + b"tail"
    data = make_zip([("a", b"1", zipfile.ZIP_STORED), ("b/c", b"22", zipfile.ZIP_STORED)],
                    comment=fake)
    assert data.endswith(fake)
    assert [e.name for e in home.entries(data)] == ["a", "b/c"]
    assert home.scan(data).entries == 2


@pytest.mark.parametrize("gap", [b"", b"junk"])
def test_entry_count_larger_than_the_directory_is_refused_at_the_record(gap):
    # With a gap between the directory and its end record (which the scan
    # allows), the record is distinct from the directory's end: the error
    # points at the record, whose count is what lies.
    data = bytearray(make_zip([("a", b"1", zipfile.ZIP_STORED)]))
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd:eocd] = gap
    eocd += len(gap)
    assert home.scan(bytes(data)).entries == 1
    cd_size = struct.unpack_from("<I", data, eocd + 12)[0]
    assert cd_size // 46 == 1
    for count in (2, 3, 0xFFFF):  # more entries than 46-byte headers fit in cd_size
        struct.pack_into("<HH", data, eocd + 8, count, count)
        with pytest.raises(ZipError) as info:
            home.scan(bytes(data))
        assert info.value.offset == eocd, (count, info.value)


def test_entry_on_another_disk_is_refused():
    # Multi-disk (spanned) archives are not job homes: an entry whose disk
    # number is not 0 (nor the ZIP64 escape 0xFFFF) is refused.
    data = bytearray(make_zip([("a", b"1", zipfile.ZIP_STORED)]))
    central = data.find(b"PK\x01\x02")
    for disk in (1, 2, 0xFFFE):
        struct.pack_into("<H", data, central + 34, disk)
        with pytest.raises(ZipError) as info:
            home.scan(bytes(data))
        assert info.value.offset == central


@pytest.mark.parametrize("name", ["C:", "z:", "C:x", "c:/x", "C:\\", "1:", ":", "é:"])
def test_drive_letter_names_at_every_length(name):
    raw = name.encode()
    [entry] = home.entries(make_zip([(name, b"1", zipfile.ZIP_STORED)]))
    assert entry.flags & ~home.DIRECTORY == reference_flags(raw) & ~home.DIRECTORY
    assert bool(entry.flags & home.ABSOLUTE) == (name[:1].isascii() and name[:1].isalpha())


def test_first_flagged_is_the_first_unsafe_entry():
    names = ["ok", "../up", "fine", "/abs", "../again"]
    data = make_zip([(n, b"1", zipfile.ZIP_STORED) for n in names])
    assert home.scan(data).first_flagged == 1
    data = make_zip([(n, b"1", zipfile.ZIP_STORED) for n in names[1:]])
    assert home.scan(data).first_flagged == 0  # 0 is a real index, not "none yet"
    assert home.scan(make_zip([("ok", b"1", zipfile.ZIP_STORED)])).first_flagged is None


@pytest.mark.parametrize("delta", [-1, 1])
def test_local_name_must_match_the_central_name_in_length(delta):
    # One byte longer or shorter (the central name a prefix of the local one,
    # or the other way round) is a different name.  The local extra field
    # gives or takes the byte, so the data still starts where it did.
    info = zipfile.ZipInfo("ab", date_time=(2000, 1, 2, 3, 4, 6))
    info.extra = b"\xfe\xca\x02\x00xy"  # an unknown extra block, 6 bytes
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(info, b"data")
    data = bytearray(buf.getvalue())
    local = data.find(b"PK\x03\x04")
    name_len, extra_len = struct.unpack_from("<HH", data, local + 26)
    assert (name_len, extra_len) == (2, 6)
    struct.pack_into("<HH", data, local + 26, 2 + delta, 6 - delta)
    with pytest.raises(ZipError) as err:
        home.scan(bytes(data))
    assert err.value.offset == local


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_extract_refuses_other_compression_methods_before_writing(tmp_path, method):
    pytest.importorskip("bz2" if method == zipfile.ZIP_BZIP2 else "lzma")
    data = make_zip([("first", b"stored, fine", zipfile.ZIP_STORED), ("second", b"x" * 100, method)])
    target = tmp_path / "out"
    with pytest.raises(ZipError, match=f"compression method {method}"):
        home.extract(data, target)
    assert not target.exists() or list(target.iterdir()) == []  # checked before any write


def _scan_for_worker_reference(data, worker):
    summary = home.scan(data)
    found = worker is not None and home.contains(data, worker)
    return summary.total_uncompressed, summary.first_flagged, found


@pytest.mark.parametrize("worker", [None, "job/worker.py", "job/other.py", "job/worker.p",
                                    "../evil", "\u00e9.py", "\u00e9", "\udce9", "\ud800", "",
                                    b"\xc3\xa9.py".decode("cp437")])
@pytest.mark.parametrize("count", [1, 3, 1025])
def test_scan_for_worker_agrees_with_scan_and_contains(worker, count):
    """validate(strict=True)'s one-frame home check gives scan()'s and
    contains()'s answers: ASCII names on the fast path, non-ASCII (UTF-8 and
    cp437 spellings), unencodable names and homes past the scratch array on
    the full rule, bytes and memoryview alike."""
    from jobpack.home.scan import scan_for_worker
    names = ["job/worker.py", "../evil", "\u00e9.py", "xx.py"] + [f"f{i}" for i in range(count)]
    data = make_zip([(n, b"x" * (i + 1), zipfile.ZIP_STORED) for i, n in enumerate(names)])
    cp437 = rename(data, b"xx.py", b"\xc3\xa9.py")  # no UTF-8 flag: read as cp437
    clean = make_zip([("job/worker.py", b"w", zipfile.ZIP_STORED)])  # nothing flagged
    assert _scan_for_worker_reference(clean, worker)[1] is None
    for blob in (data, cp437, clean):
        want = _scan_for_worker_reference(blob, worker)
        assert scan_for_worker(blob, worker) == want
        assert scan_for_worker(memoryview(blob), worker) == want
        # The home inside a pack, read in place: bytes around it change nothing.
        pack = b"P" * 7 + blob + b"PK\x05\x06" * 3
        end = 7 + len(blob)
        assert scan_for_worker(pack, worker, 7, end) == want
        assert scan_for_worker(memoryview(pack), worker, 7, end) == want
    assert _scan_for_worker_reference(data, worker)[1] == 1  # "../evil" is flagged


def test_scan_for_worker_finds_the_first_exact_name_past_a_thousand_entries():
    """The worker is looked up in the scan itself, whatever the home's size
    (no scratch array to outgrow): a longer or shorter name never matches."""
    from jobpack.home.scan import scan_for_worker
    names = [f"lib/m{i}.py" for i in range(1500)] + ["job/worker.py"]
    data = make_zip([(n, b"", zipfile.ZIP_STORED) for n in names])
    assert scan_for_worker(data, "job/worker.py") == (0, None, True)
    assert scan_for_worker(data, "job/worker.p") == (0, None, False)
    assert scan_for_worker(data, "job/worker.pyc") == (0, None, False)
    assert scan_for_worker(data, "lib/m1499.py") == (0, None, True)


def test_scan_for_worker_refuses_bounds_outside_the_buffer():
    from jobpack.home.scan import scan_for_worker
    data = make_zip([("w.py", b"x", zipfile.ZIP_STORED)])
    with pytest.raises(ZipError):
        scan_for_worker(data, "w.py", 1, len(data) + 1)


def test_scan_for_worker_raises_zip_error_as_scan():
    from jobpack.home.scan import scan_for_worker
    for worker in (None, "w.py"):
        with pytest.raises(ZipError) as e:
            scan_for_worker(b"not a zip at all" * 3, worker)
        with pytest.raises(ZipError) as f:
            home.scan(b"not a zip at all" * 3)
        assert (e.value.offset, str(e.value)) == (f.value.offset, str(f.value))
