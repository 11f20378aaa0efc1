"""Hostile packs and hostile file systems (issue 10), one test or more per item.

Every hostile file is built here, in a temp dir.  What they check: nothing is
written outside the target or through a link, no node is replaced that is not
ours, memory stays linear (tracemalloc peaks, not timings), files that are
not packs are refused without blocking, and nothing printed can drive a
terminal.  No CLI run may print "internal error".
"""
import errno
import io
import json
import os
import re
import socket
import stat
import struct
import subprocess
import sys
import threading
import zipfile
import zlib

import pytest

from jobpack import JobPack, _files, dialect, errors, home
from jobpack.errors import JobPackError, SourceError, ZipError
from jobpack.validate import validate


# -- helpers -------------------------------------------------------------------

def run(*args, stdin=None, timeout=60):
    proc = subprocess.run([sys.executable, "-m", "jobpack", *map(str, args)],
                          input=stdin, capture_output=True, timeout=timeout)
    proc.out = proc.stdout.decode("utf-8", "surrogateescape")
    proc.err = proc.stderr.decode("utf-8", "surrogateescape")
    assert "internal error" not in proc.err and "Traceback" not in proc.err, proc.err
    return proc


def stored_zip(names, data=b""):
    """A ZIP of stored entries, written with struct (fast for many entries)."""
    local, central, offset = [], [], 0
    crc = zlib.crc32(data)
    for name in names:
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, 0, 0, 0x21, crc,
                             len(data), len(data), len(name), 0) + name + data
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x314, 20, 0x800, 0, 0,
                                   0x21, crc, len(data), len(data), len(name), 0, 0, 0, 0,
                                   0o100644 << 16, offset) + name)
        local.append(header)
        offset += len(header)
    cd = b"".join(central)
    n = len(names)
    assert n <= 0xFFFF
    return b"".join(local) + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd),
                                              offset, 0)


def raw_pack(jobdict: bytes, jobenvs: bytes = b"{}", jobhome: bytes = b"", data: bytes = b""):
    o = [128, 128 + len(jobdict)]
    o += [o[1] + len(jobenvs), o[1] + len(jobenvs) + len(jobhome)]
    return JobPack.header(o, version=2) + jobdict + jobenvs + jobhome + data


def jobdict(worker="job.py", **extra):
    d = {"prefix": "J", "owner": "me", "worker": worker, "pipeline": [["map", "split", False]],
         "inputs": [], "scheduler": {}}
    d.update(extra)
    return d


HOME = stored_zip([b"job.py"], b"print(1)\n")
PACK = JobPack(2, jobdict(), {"A": "1"}, HOME, b"data")


def peak_bytes(fn):
    """Peak Python heap allocated while fn runs (tracemalloc)."""
    # PyPy has no tracemalloc: these memory checks run on the CPython legs.
    tracemalloc = pytest.importorskip("tracemalloc", reason="no tracemalloc (PyPy)")
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def listing(top):
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            out[os.path.relpath(p, top)] = (stat.S_IFMT(st.st_mode), st.st_size)
    return out


# -- 1. unpack writes only inside DIR ------------------------------------------

@pytest.mark.parametrize("leaf", ["jobdata.bin", "jobdict.json", "jobenvs.json", "jobhome.zip"])
def test_unpack_force_replaces_a_planted_link_and_never_writes_through_it(tmp_path, leaf):
    pack = tmp_path / "p.jobpack"
    PACK.dump(str(pack))
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / leaf).symlink_to(victim)
    hard = out / "hard"          # a hard link to the victim is not written through either
    os.link(victim, hard)
    proc = run("unpack", pack, "-d", out, "--force")
    assert proc.returncode == 0, proc.err
    assert victim.read_bytes() == b"precious" and hard.read_bytes() == b"precious"
    assert not (out / leaf).is_symlink() and (out / leaf).stat().st_size > 0


def test_unpack_refuses_a_home_that_is_a_link_before_writing_anything(tmp_path):
    pack = tmp_path / "p.jobpack"
    PACK.dump(str(pack))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "home").symlink_to(elsewhere)
    proc = run("unpack", pack, "-d", out, "--force")
    assert proc.returncode == 2 and "symbolic link" in proc.err
    assert list(elsewhere.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == ["home"]  # nothing written


def test_unpack_links_inside_an_existing_home_are_not_followed(tmp_path):
    pack = tmp_path / "p.jobpack"
    JobPack(2, jobdict(), {}, stored_zip([b"lib/", b"lib/x.py", b"job.py"]), b"").dump(str(pack))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out"
    (out / "home").mkdir(parents=True)
    (out / "home" / "lib").symlink_to(elsewhere)
    (out / "home" / "job.py").symlink_to(tmp_path / "victim")
    proc = run("unpack", pack, "-d", out, "--force")
    assert proc.returncode == 1 and "symbolic link" in proc.err
    assert list(elsewhere.iterdir()) == [] and not (tmp_path / "victim").exists()


# -- 2. dump: per kind of target ---------------------------------------------------

def test_dump_never_follows_or_replaces_a_link_to_a_file(tmp_path):
    target = tmp_path / "suid"
    target.write_bytes(b"#!/bin/sh\n")
    target.chmod(0o4755)
    link = tmp_path / "link.jobpack"
    link.symlink_to(target)
    with pytest.raises(OSError) as err:
        PACK.dump(str(link))
    assert err.value.errno == errno.ELOOP and "symbolic link" in str(err.value)
    assert link.is_symlink() and target.read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o4755
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    with pytest.raises(OSError):
        PACK.dump(str(dangling))
    assert not (tmp_path / "nowhere").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling", "link.jobpack", "suid"]
    # the command line says why, as an I/O error
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "nowhere.zip", "-o", link,
               stdin=json.dumps(jobdict()).encode())
    assert proc.returncode == 2


def test_dump_drops_setuid_setgid_sticky_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "x.jobpack"
    target.write_bytes(b"old")
    target.chmod(0o7755)
    PACK.dump(str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert target.read_bytes() == PACK.dumps()
    new = tmp_path / "new.jobpack"
    PACK.dump(str(new))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask


def test_dump_writes_fifos_in_place(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    PACK.dump(str(fifo))
    reader.join(10)
    assert got == [PACK.dumps()]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dump_writes_character_devices_in_place(tmp_path):
    # /dev/null, reached through a link as /dev/stdout is
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    PACK.dump(str(link))
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    try:  # a device node of our own (root only), so a wrong dump cannot hurt /dev
        node = tmp_path / "mynull"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        return
    PACK.dump(str(node))
    assert stat.S_ISCHR(os.lstat(node).st_mode)


def test_dump_refuses_directories_and_sockets(tmp_path):
    with pytest.raises(IsADirectoryError):
        PACK.dump(str(tmp_path))
    path = str(tmp_path / "sock")
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(path)
        with pytest.raises(OSError, match="socket"):
            PACK.dump(path)
    assert sorted(os.listdir(tmp_path)) == ["sock"]


# -- 3. temporary files: named, and removed on every catchable failure --------

@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()])
def test_dump_failure_leaves_no_temp_file_and_the_old_pack(tmp_path, monkeypatch, failure):
    import jobpack.pack as pack_module
    target = tmp_path / "job.jobpack"
    target.write_bytes(b"old pack")
    seen = []

    def failing_writev(fd, parts):
        os.write(fd, b"partial")
        seen.extend(os.listdir(tmp_path))
        raise failure

    monkeypatch.setattr(pack_module, "_writev_all", failing_writev)
    with pytest.raises(type(failure)):
        PACK.dump(str(target))
    temp = [n for n in seen if n != "job.jobpack"]
    assert len(temp) == 1 and re.fullmatch(r"\.job\.jobpack\.[a-z0-9_]{8}\.jobpack-tmp", temp[0])
    assert temp[0].endswith(_files.TEMP_SUFFIX)
    assert os.listdir(tmp_path) == ["job.jobpack"] and target.read_bytes() == b"old pack"


def test_dump_temp_file_is_ours_alone_while_written(tmp_path, monkeypatch):
    """The temporary file is 0600 while its bytes go in (the target's mode
    comes only after), and a name already taken (here by a planted link to
    a victim file) is skipped, never followed or overwritten."""
    import jobpack.pack as pack_module
    target = tmp_path / "job.jobpack"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    victim = tmp_path / "victim"
    victim.write_bytes(b"victim")
    names = iter([b"\x00\x01\x02\x03", b"\x00\x01\x02\x03", b"\xaa\xbb\xcc\xdd"])
    monkeypatch.setattr(os, "urandom", lambda n: next(names))
    (tmp_path / ".job.jobpack.00010203.jobpack-tmp").symlink_to(victim)
    modes = []
    real = pack_module._writev_all

    def writev_all(fd, parts):
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        modes.append(sorted(os.listdir(tmp_path)))
        real(fd, parts)

    monkeypatch.setattr(pack_module, "_writev_all", writev_all)
    PACK.dump(str(target))
    assert modes[0] == 0o600
    assert ".job.jobpack.aabbccdd.jobpack-tmp" in modes[1]
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o644
    assert target.read_bytes() == PACK.dumps() and victim.read_bytes() == b"victim"
    assert (tmp_path / ".job.jobpack.00010203.jobpack-tmp").is_symlink()


def test_dump_gives_up_when_every_temp_name_is_taken(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "urandom", lambda n: b"\x00" * n)
    (tmp_path / ".job.jobpack.00000000.jobpack-tmp").write_bytes(b"someone else's")
    with pytest.raises(FileExistsError, match="temporary names"):
        PACK.dump(str(tmp_path / "job.jobpack"))
    assert os.listdir(tmp_path) == [".job.jobpack.00000000.jobpack-tmp"]


def test_cli_sigterm_during_dump_removes_the_temp_file(tmp_path):
    script = (
        "import os, signal, sys\n"
        "import jobpack.pack\n"
        "from jobpack.cli import main\n"
        "def writev(fd, parts):\n"
        "    os.write(fd, b'partial')\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "jobpack.pack._writev_all = writev\n"
        "sys.exit(main(sys.argv[1:]))\n")
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "job.py").write_bytes(b"")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-c", script, "pack", "--jobdict", "-", "--home",
                           tmp_path / "h", "-o", out / "job.jobpack"],
                          input=json.dumps(jobdict()).encode(), capture_output=True, timeout=60)
    assert proc.returncode == 128 + 15, proc.stderr
    assert os.listdir(out) == []


# -- 4. extract: linear in the names, bounded depth ------------------------------

def test_extract_refuses_deep_names_in_linear_memory(tmp_path):
    # 128 KB of names: 2 entries of 32,000 components took 1.27 GB and 10 s.
    deep = stored_zip([b"d/" * 32000 + b"f", b"e/" * 32000 + b"f"])
    assert peak_bytes(lambda: pytest.raises(ZipError, home.extract, deep, tmp_path / "a")) \
        < 8 << 20
    with pytest.raises(ZipError, match="more than the limit"):
        home.extract(deep, tmp_path / "a")
    assert not (tmp_path / "a").exists() or list((tmp_path / "a").iterdir()) == []


def test_extract_bounds_are_exact(tmp_path):
    limit = home.MAX_DEPTH
    ok = b"d/" * (limit - 1) + b"f"
    assert len(home.extract(stored_zip([ok]), tmp_path / "ok")) == 1
    for bad, why in ((b"d/" * limit + b"f", "path components"),
                     (b"x" * (home.MAX_COMPONENT_BYTES + 1), "longer than"),
                     (b"d/" * 2100, "more than the limit of 4096")):
        with pytest.raises(ZipError, match=why):
            home.extract(stored_zip([b"fine", bad]), tmp_path / "bad")
        assert not (tmp_path / "bad" / "fine").exists()  # refused before writing
    with pytest.raises(ZipError, match="entries"):
        home.extract(stored_zip([b"a", b"b", b"c"]), tmp_path / "n", max_entries=2)


def test_extract_clash_checks_have_no_false_positives(tmp_path):
    names = [b"a.txt", b"a/x", b"a-b", b"a/y/", b"a/y/z", b"ab", b"./a/w"]
    assert len(home.extract(stored_zip(names), tmp_path / "t")) == len(names)
    for clash in ([b"a", b"a/x"], [b"a/x", b"a"], [b"a/", b"a"], [b"a/b/c", b"a/b"],
                  [b"x", b"./x"]):
        with pytest.raises(ZipError, match="under the file|duplicate"):
            home.extract(stored_zip(clash), tmp_path / "c")


def test_many_entries_extract_in_linear_memory(tmp_path):
    names = [b"p%d/q/r/s/t/u/v/w/x/y/z%d" % (i % 7, i) for i in range(3000)]
    data = stored_zip(names)
    small = peak_bytes(lambda: home.extract(stored_zip(names[:300]), tmp_path / "s"))
    large = peak_bytes(lambda: home.extract(data, tmp_path / "l"))
    assert large < 20 * small + (1 << 20)


# -- 5. strict and inspect on huge homes ---------------------------------------------

def test_strict_on_a_huge_home_builds_no_entry_list(monkeypatch):
    names = [b"job.py"] + [b"e%05d" % i for i in range(60000)] + [b"../escape"]
    data = JobPack(2, jobdict(), {}, stored_zip(names), b"").dumps()
    problems = []
    peak = peak_bytes(lambda: problems.extend(validate(data, strict=True)))
    assert [p.code for p in problems] == ["zip_path_traversal"]
    assert "../escape" in problems[0].message
    assert peak < 16 << 20  # 60,000 ZipEntry objects alone take ~40 MB


def test_inspect_lists_a_capped_number_of_entries_and_says_how_many_more(tmp_path):
    names = [b"job.py"] + [b"e%05d" % i for i in range(5000)]
    path = tmp_path / "many.jobpack"
    JobPack(2, jobdict(), {}, stored_zip(names), b"").dump(str(path))
    proc = run("inspect", path)
    assert proc.returncode == 0
    assert "5001 entries" in proc.out and "e00998" in proc.out and "e00999" not in proc.out
    assert "... and 4001 more entries, not shown" in proc.out
    (doc,) = json.loads(run("inspect", "--json", path).out)["packs"]
    assert doc["home"]["entry_count"] == 5001 and len(doc["home"]["entries"]) == 1000
    assert doc["home"]["entries_not_shown"] == 4001


# -- 6. huge integers are printed, not converted ------------------------------------

def test_inspect_prints_huge_integers_as_their_digits(tmp_path, monkeypatch):
    from jobpack.cli import pretty
    digits = "7" * 30001
    path = tmp_path / "ints.jobpack"
    path.write_bytes(raw_pack(json.dumps(jobdict())[:-1].encode() + b', "n": ['
                              + digits.encode() + b', -' + digits.encode() + b']}'))
    proc = run("inspect", path)
    assert proc.returncode == 0 and f" {digits}," in proc.out and f" -{digits}\n" in proc.out
    (doc,) = json.loads(run("inspect", "--json", path).out, parse_int=str)["packs"]
    assert doc["jobdict"]["n"] == [digits, "-" + digits]  # numbers, not strings
    # in process: no int() of a HugeInt (quadratic) anywhere on the way
    monkeypatch.setattr(dialect.HugeInt, "__int__", lambda self: pytest.fail("int()"))
    value = dialect.loads(path.read_bytes()[128:-2])
    assert digits in pretty._pretty(pretty._clip(value))
    # a string in the pack cannot pose as a placeholder
    text = pretty._one_line(["\x000-0\x00", dialect.HugeInt("12")])
    assert text == '["\\u00000-0\\u0000", 12]'


# -- 7. nesting is bounded ------------------------------------------------------------

def test_deep_nesting_is_refused_in_constant_memory():
    depth = 1_000_000
    data = raw_pack(b'{"x": ' + b"[" * depth + b"]" * depth + b"}")
    for strict in (False, True):
        got = []
        peak = peak_bytes(lambda: got.extend(validate(data, strict=strict)))
        assert peak < 8 << 20     # it was ~150 bytes per level
        assert got[0].code == "json_too_deep" and got[0].beyond_master
        assert got[0].offset == 128 + 6 + dialect.MAX_DEPTH - 1
    with pytest.raises(errors.JSONDecodeError, match="nested too deep"):
        JobPack.loads(data)
    proc = run("validate", "-", stdin=data)
    assert proc.returncode == 1 and "json_too_deep" in proc.out


# -- 8. files that are not packs --------------------------------------------------------

def test_load_refuses_devices_fifos_and_directories_without_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    results = []

    def attempt():
        for source in ("/dev/zero", str(fifo), str(tmp_path)):
            for call in (JobPack.load, JobPack.view, validate, JobPack.offsets):
                try:
                    call(source)
                except SourceError as e:
                    results.append(str(e))

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(20)
    if worker.is_alive():
        with open(fifo, "wb"):  # unblock it before failing
            pass
        pytest.fail("a FIFO without a writer blocked")
    assert len(results) == 12
    assert "character device" in results[0] and "FIFO" in results[4] and "directory" in results[8]
    assert isinstance(SourceError("x"), JobPackError)


def test_streams_are_read_in_bounded_memory(monkeypatch):
    monkeypatch.setattr(_files, "MAX_STREAM_BYTES", 1 << 20)
    with open("/dev/zero", "rb") as f:
        with pytest.raises(SourceError, match="more than 1048576 bytes"):
            JobPack.load(f)
    with pytest.raises(SourceError):
        _files.read_stream(io.BytesIO(b"x" * 11).read, limit=10)
    assert _files.read_stream(io.BytesIO(b"x" * 10).read, limit=10) == b"x" * 10


def test_cli_refuses_devices_and_fifos_as_io_errors(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in (("validate", "/dev/zero"), ("validate", fifo), ("inspect", fifo),
                 ("unpack", "/dev/zero", "-d", tmp_path / "o"),
                 ("pack", "--jobdict", "/dev/zero", "--home", "/dev/zero", "-o", "x")):
        proc = run(*args, timeout=30)
        assert proc.returncode == 2, (args, proc.err)
        assert "not a regular file" in proc.err or "character device" in proc.err
    # a pipe (process substitution, '-') is still read
    proc = run("validate", "-", stdin=PACK.dumps())
    assert proc.returncode == 0


# -- 9. a file truncated between fstat and mmap ----------------------------------------

def test_file_emptied_after_fstat_is_a_truncated_pack(tmp_path, monkeypatch):
    path = tmp_path / "p.jobpack"
    path.write_bytes(b"")
    fd = os.open(path, os.O_RDONLY)
    try:
        assert _files.read_regular(fd, 4 << 20, True) == b""  # mmap: ValueError, caught
    finally:
        os.close(fd)
    real_fstat = os.fstat

    def stale_fstat(fd):  # the size the file had a moment ago
        st = real_fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_size == 0:
            fields = list(st)
            fields[stat.ST_SIZE] = 4 << 20
            return os.stat_result(fields)
        return st

    monkeypatch.setattr(os, "fstat", stale_fstat)
    for mmap in (None, True):
        with pytest.raises(errors.TruncatedError):
            JobPack.load(str(path), mmap=mmap)
        with open(path, "rb") as f:
            with pytest.raises(errors.TruncatedError):
                JobPack.load(f, mmap=mmap)


# -- 10. a home that is a file -------------------------------------------------------

def test_extract_into_a_file_or_link_is_a_zip_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_bytes(b"mine")
    with pytest.raises(ZipError, match="not a directory"):
        home.extract(HOME, afile)
    assert afile.read_bytes() == b"mine"
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "d")
    (tmp_path / "d").mkdir()
    with pytest.raises(ZipError, match="symbolic link"):
        home.extract(HOME, link, follow_symlinks=False)
    assert list((tmp_path / "d").iterdir()) == []
    assert home.extract(HOME, link) == ["job.py"]  # the default follows, as open() does


def test_unpack_force_with_home_a_file_writes_nothing(tmp_path):
    pack = tmp_path / "p.jobpack"
    PACK.dump(str(pack))
    out = tmp_path / "out"
    out.mkdir()
    (out / "home").write_bytes(b"mine")
    proc = run("unpack", pack, "-d", out, "--force")
    assert proc.returncode == 2 and "not a directory" in proc.err
    assert sorted(p.name for p in out.iterdir()) == ["home"]
    assert (out / "home").read_bytes() == b"mine"


# -- 11 and 12. output a terminal would obey ------------------------------------------

EVIL = "\x1b]0;pwned\x07\x1b[2J\u009b31m\x7f\r\n"


def _evil_pack(tmp_path):
    path = tmp_path / "evil.jobpack"
    jd = jobdict(owner=EVIL, worker="job.py", extra=EVIL)
    zip_bytes = stored_zip([b"job.py", EVIL.encode(), b"bad\xff\xfe"])
    JobPack(2, jd, {EVIL: EVIL}, zip_bytes, b"").dump(str(path))
    return path


def _assert_inert(text):
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", text), repr(text)


def test_inspect_escapes_every_control_character(tmp_path):
    path = _evil_pack(tmp_path)
    proc = run("inspect", path)
    assert proc.returncode == 0
    _assert_inert(proc.out)
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\x7f\\x0d\\x0a" in proc.out  # entry name
    assert "bad\\xff\\xfe" in proc.out
    proc = run("inspect", "--json", path)
    _assert_inert(proc.out)
    (doc,) = json.loads(proc.out)["packs"]
    entries = {e["name"]: e for e in doc["home"]["entries"]}
    assert EVIL in entries and doc["jobinfo"]["owner"] == EVIL
    bad = entries["bad\ufffd\ufffd"]
    assert bytes.fromhex(bad["name_bytes"]) == b"bad\xff\xfe"


def test_validate_escapes_file_names_losslessly_in_every_format(tmp_path):
    top = tmp_path / "packs"
    top.mkdir()
    raw_name = b"bad\xff\x1b[2J\x9b\\x.jobpack"
    with open(os.path.join(os.fsencode(top), raw_name), "wb") as f:
        f.write(b"\xd5\xc0junk")
    text = run("validate", top)
    assert text.returncode == 1
    _assert_inert(text.out + text.err)
    assert "bad\\xff\\x1b[2J\\x9b\\\\x.jobpack: INVALID" in text.out  # \\ is a backslash
    github = run("validate", "--format", "github", top)
    _assert_inert(github.out)
    assert "bad\\xff\\x1b[2J\\x9b\\\\x.jobpack" in github.out
    doc = json.loads(run("validate", "--format", "json", top).out)
    item = doc["packs"][0]
    assert bytes.fromhex(item["path_bytes"]) == os.fsencode(top) + b"/" + raw_name
    assert "\ufffd" in item["path"]
    missing = run("validate", "--format", "json", top / "gone\x1b\xff")
    _assert_inert(missing.out + missing.err)


def test_validate_text_report_escapes_itself(tmp_path):
    """The text reporter writes past escape.install()'s filter (it escapes
    every name and problem itself, and the filter would check each character
    again): a strict report on a pack full of control characters, in a file
    named with them, still holds nothing a terminal would obey."""
    jd = jobdict(owner=EVIL, worker=EVIL, prefix=EVIL, scheduler=EVIL, extra=EVIL)
    JobPack(2, jd, {EVIL: EVIL}, stored_zip([b"job.py", EVIL.encode()]), b"").dump(
        str(tmp_path / ("evil" + EVIL + ".jobpack")))
    proc = run("validate", "--strict", tmp_path)
    _assert_inert(proc.out + proc.err)
    assert "evil\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\x7f\\x0d\\x0a.jobpack: INVALID" in proc.out
    assert "prefix_not_portable" in proc.out and "scheduler" in proc.out


def test_pack_and_unpack_messages_are_inert(tmp_path):
    path = _evil_pack(tmp_path)
    proc = run("unpack", path, "-d", tmp_path / EVIL.replace("\n", "").replace("\r", ""))
    _assert_inert(proc.out + proc.err)
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "nothere\x1b[2J", "-o", "x",
               stdin=json.dumps(jobdict()).encode())
    assert proc.returncode == 2
    _assert_inert(proc.err)


def test_escape_notation_maps_back_to_the_exact_bytes():
    from jobpack.cli import escape
    raw = b"a\\b\x1b\x7f\xc2\x9b\xff\xe2\x82\xac\n"
    shown = escape.name(raw.decode("utf-8", "surrogateescape"))
    assert shown == "a\\\\b\\x1b\\x7f\\u009b\\xff\u20ac\\x0a"

    def back(text):
        out, i = bytearray(), 0
        while i < len(text):
            if text.startswith("\\\\", i):
                out += b"\\"
                i += 2
            elif text.startswith("\\x", i):
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
            elif text.startswith("\\u", i):
                out += chr(int(text[i + 2:i + 6], 16)).encode()
                i += 6
            else:
                out += text[i].encode()
                i += 1
        return bytes(out)

    assert back(shown) == raw


def test_escape_fast_path_escapes_exactly_what_the_rule_escapes():
    """inert() and name() skip the regex for printable ASCII: every character
    (C0, DEL, C1, surrogates, backslash, newline...) alone and in text still
    comes out as the character-class rule says."""
    from jobpack.cli import escape

    def rule(pattern, text):
        return re.sub(pattern, escape._escape, text)
    chars = [chr(i) for i in range(0x2100)] + ["\ud800", "\udc80", "\udcff", "\udfff",
                                               "\U0001f600", "\ufeff", "\uffff"]
    for c in chars:
        for text in (c, "ab" + c, c + "\n", "x\ny" + c, "plain " + c + " text\n"):
            assert escape.inert(text) == rule(escape._UNSAFE, text), repr(text)
            assert (escape.inert(text, keep_newlines=True)
                    == rule(escape._UNSAFE_BUT_NEWLINE, text)), repr(text)
            assert escape.name(text) == rule(escape._UNSAFE_OR_BACKSLASH, text), repr(text)


# -- 13. a deep jobdict for pack ---------------------------------------------------------

def test_pack_reads_a_deep_jobdict_without_recursion(tmp_path):
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "job.py").write_bytes(b"")
    deep = json.dumps(jobdict())[:-1] + ', "x": ' + "[" * 50000 + "]" * 50000 + "}"
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "h", "-o", tmp_path / "a",
               stdin=deep.encode())
    assert proc.returncode == 0, proc.err
    assert JobPack.load(str(tmp_path / "a")).jobdict["worker"] == "job.py"
    too_deep = "[" * 200000 + "]" * 200000
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "h", "-o", tmp_path / "b",
               stdin=too_deep.encode())
    assert proc.returncode == 2 and "deeper than 100000" in proc.err
    assert not (tmp_path / "b").exists()


# -- 14. a worker holding a lone surrogate ------------------------------------------------

def test_lone_surrogate_worker_is_simply_not_in_the_home(tmp_path):
    pack = JobPack.loads(JobPack(2, jobdict(worker="\ud800x"), {}, HOME, b"").dumps())
    assert pack.jobdict["worker"] == "\ud800x"
    assert home.contains(pack.jobhome, pack.jobdict["worker"]) is False
    assert home.contains(HOME, "job.py") is True
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "job.py").write_bytes(b"")
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "h", "-o", tmp_path / "p",
               stdin=b'{"worker": "\\ud800", "prefix": "J"}')
    assert proc.returncode == 1 and "not a file in the job home" in proc.err
    _assert_inert(proc.err)
    proc = run("pack", "--jobdict", "-", "--home", tmp_path / "h", "-o", tmp_path / "p",
               "--no-worker-check", stdin=b'{"worker": "\\ud800", "prefix": "J"}')
    assert proc.returncode == 0 and "warning" in proc.err


def test_escaping_shortcuts_give_the_full_rules_text():
    """inert() and name() return printable text as it is (ASCII or not);
    whatever they let through must be what the full rule (the regex) gives."""
    from hypothesis import given, settings, strategies as st

    from conftest import examples
    from jobpack.cli import escape

    def full(pattern, text):
        return re.sub(pattern, escape._escape, text)

    risky = st.sampled_from(["\x1b", "\x9b", "\x7f", "\udc80", "\ud800", "\\", "\n", "\u00a0",
                             "\u200b", "\u202e", "é", "字", "\U0001f600", "\x00"])
    texts = st.lists(st.text(max_size=5) | risky, max_size=8).map("".join)

    @settings(max_examples=examples(300), deadline=None)
    @given(texts)
    def check(text):
        assert escape.inert(text) == full(escape._UNSAFE, text)
        assert escape.inert(text, keep_newlines=True) == full(escape._UNSAFE_BUT_NEWLINE, text)
        assert escape.name(text) == full(escape._UNSAFE_OR_BACKSLASH, text)

    check()
