"""Build the seed corpus of the fuzz targets in fuzz/corpus/.

    python fuzz/make_corpus.py            # vectors + strategies (needs hypothesis)
    python fuzz/make_corpus.py --vectors-only

Four directories, one per kind of input:

- ``header/``: whole packs and bare headers (header_fuzzer);
- ``json/``: jobdict and jobenvs sections, and dialect snippets (json_fuzzer);
- ``zip/``: job homes, and hand-made ZIP edge cases (zip_fuzzer);
- ``pack/``: whole packs (the atheris harnesses: loads, validate, round trip).

Sources: the master's vectors in tests/vectors/packs, the dialect cases of
SPEC.md, and examples drawn from ``jobpack.strategies`` (valid packs,
malformed packs of every kind, strict violations) with a fixed seed, so the
corpus is the same on every run.  Files are named by the SHA-1 of their
content (libFuzzer's convention), which also removes duplicates.  The
directories are rebuilt from scratch: about 800 files, 1 MB.
"""
import argparse
import hashlib
import io
import random
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import jobpack
from jobpack import PackView

ROOT = Path(__file__).resolve().parent
PACKS = ROOT.parent / "tests" / "vectors" / "packs"
CORPUS = ROOT / "corpus"

# The dialect cases of SPEC.md, and a few of each error the scanner reports.
JSON_SNIPPETS = [
    b'{}', b'[]', b' {"a": 1} ', b'{"a":1,}', b'[1,]', b'{"a":"x\x00y\x1f"}',
    b'{"a":"\\x\\\'"}', b'{1: 2}', b'{null: 1, true: [false]}', b'[' * 500 + b']' * 500,
    b'{"a":' * 450 + b'1' + b'}' * 450, b'1e-400', b'9' * 5000, b'-' + b'7' * 4100,
    b'[1e308, 1.7976931348623157e308, 1.7976931348623158e308, 17976931348623159e292]',
    b'\xef\xbb\xbf{}', b'\x0c{}', b'\x0b{}', b'\xc2\xa0{}', b'NaN', b'Infinity', b'-Infinity',
    b'1e400', b'01', b'+1', b'.5', b'5.', b'{"a":1}{}', b'{"a":1} x', b'"\xed\xa0\x80"',
    b'"\xf4\x90\x80\x80"', b'"\xe0\x80\x80"', b'"\xf0\x80\x80\x80"', b'"\xc0\x80"', b'"\xff"',
    b'"\\ufffe"', b'"\\uffff"', b'"\\ud800"', b'"\\udc00"', b'"\\ud83d\\ude00"',
    b'"\\ud800\\u0041"', b'"\\u+041"', b'"\\u-041"', b'"\\u12"', b'"\\u"', b'"\\', b'"abc',
    b'{"a": 1, "a": 2}', b'[true, false, null, tru]', b'{"a" 1}', b'{,}', b'[,1]', b'[1,,2]',
    b'', b' \t\r\n', b'"\\/\\b\\f\\n\\r\\t\\"\\\\"', b'-0', b'-0.0e-0', b'1E+2', b'-',
    b'{"\xc3\xa9": "\xe2\x82\xac\xf0\x9f\x98\x80"}', b'{"a": [1, {"b": [2, {"c": null}]}]}',
    # Top-level floats around the overflow boundary (json_fuzzer checks them against strtod).
    b"1.7976931348623157e308", b"1.7976931348623158e308", b"1.7976931348623159e308",
    b"17976931348623158079e289", b"-17976931348623158080e289", b"0.00001e313", b"1e-400",
    b"179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017"
    b"977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273"
    b"854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704"
    b"342711559699508093042880177904174497791.9e0",
]


def name_of(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def put(directory: Path, data: bytes) -> None:
    (directory / name_of(data)).write_bytes(data)


def zip_bytes(names, *, compression=zipfile.ZIP_DEFLATED, comment=b"", zip64=False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression, allowZip64=True) as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o100755 << 16
            info.create_system = 3
            info.compress_type = compression
            with zf.open(info, "w", force_zip64=zip64) as f:
                f.write(name.encode("utf-8") * 3)
        zf.comment = comment
    return buf.getvalue()


def zip_edge_cases():
    """ZIP archives that reach the scanner's less common paths."""
    rng = random.Random(5)
    plain = zip_bytes(["job/worker.py", "job/lib/mod.py"])
    cases = [
        b"", b"PK\x05\x06" + b"\0" * 18, plain, zip_bytes(["w"], compression=zipfile.ZIP_STORED),
        zip_bytes(["job/worker.py"], comment=b"a comment PK\x05\x06"),
        zip_bytes(["job/worker.py", "../../etc/cron.d/x", "/abs", "C:/x", "a\\b", "dir/"]),
        zip_bytes(["job/worker.py", "big"], zip64=True),
        zip_bytes(["\u00e9t\u00e9/worker.py", "job/\u6f22\u5b57"]),
        plain[:-1], plain[:-22], plain[len(plain) // 2:], b"junk" + plain, plain + b"junk",
    ]
    # A symlink entry, and an encrypted-flag entry.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link", date_time=(1980, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = 0o120777 << 16
        zf.writestr(info, b"/etc/passwd")
        info = zipfile.ZipInfo("secret", date_time=(1980, 1, 1, 0, 0, 0))
        info.flag_bits |= 1
        zf.writestr(info, b"x")
    cases.append(buf.getvalue())
    # A few random single-byte mutations of a real archive.
    for _ in range(12):
        mutated = bytearray(plain)
        for _ in range(rng.randint(1, 3)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        cases.append(bytes(mutated))
    return cases


def deep_packs():
    """Packs with values nested deeper than Python's recursion limit, in the
    fields the checks look at: byte mutations rarely build 1000 brackets."""
    deep = "[" * 1500 + "]" * 1500
    base = {"prefix": '"p"', "owner": '"o"', "worker": '"job/worker.py"',
            "pipeline": '[["map", "split", false]]', "inputs": "[]", "scheduler": "{}"}
    home = zip_bytes(["job/worker.py"])
    for field in ("x", "owner", "prefix", "pipeline", "inputs", "worker"):
        jobdict = dict(base, **{field: deep})
        text = "{" + ", ".join(f'"{k}": {v}' for k, v in jobdict.items()) + "}"
        yield pack_of(text.encode(), b"{}", home)
    yield pack_of(b'{"prefix": "p"}', ('{"A": %s}' % deep).encode(), home)


def pack_of(jobdict: bytes, jobenvs: bytes, home: bytes, version: int = 2) -> bytes:
    offsets = [128, 128 + len(jobdict), 128 + len(jobdict) + len(jobenvs)]
    offsets.append(offsets[2] + len(home))
    return jobpack.JobPack.header(offsets, version=version) + jobdict + jobenvs + home


def sections_of(pack: bytes):
    try:
        view = PackView.from_buffer(pack)
    except jobpack.JobPackError:
        return None
    return bytes(view.jobdict), bytes(view.jobenvs), bytes(view.jobhome)


def strategy_examples(count: int):
    """Packs drawn from jobpack.strategies with a fixed seed."""
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from jobpack import strategies

    found = []

    def collect(strategy, n):
        @seed(20240501)
        @settings(max_examples=n, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck), deadline=None)
        @given(strategy)
        def draw(value):
            found.append(value)
        draw()

    collect(strategies.packed_jobpacks(), count)
    collect(strategies.malformed_jobpacks().map(lambda pair: pair[0]), count)
    collect(strategies.strict_violations().map(lambda pair: pair[0]), count // 2)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors-only", action="store_true",
                        help="skip the examples drawn from jobpack.strategies")
    parser.add_argument("--examples", type=int, default=40,
                        help="examples per strategy (default 40)")
    args = parser.parse_args(argv)

    dirs = {kind: CORPUS / kind for kind in ("header", "json", "zip", "pack")}
    for directory in dirs.values():
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)

    vectors = sorted(PACKS.iterdir())
    packs = [(p.name, p.read_bytes()) for p in vectors]
    packs += [(f"deep-{i}", data) for i, data in enumerate(deep_packs())]
    if not args.vectors_only:
        packs += [(f"strategy-{i}", data) for i, data in enumerate(strategy_examples(args.examples))]

    # Every pack goes to pack/.  The C targets get a sample: the scanners are
    # small and the fuzzers grow their own corpus from a few seeds.
    json_kinds = ("json_", "ws_", "utf8_", "dup_", "envs_", "key_", "type_", "missing_")
    for i, (name, pack) in enumerate(packs):
        put(dirs["pack"], pack)
        if i % 6 == 0 or name.startswith("hdr_"):
            put(dirs["header"], pack[:160])   # with the size it claims: mostly truncated
        if i % 24 == 0:
            put(dirs["header"], pack)
        sections = sections_of(pack)
        if sections is None:
            continue
        jobdict, jobenvs, home = sections
        if name.startswith(json_kinds) or i % 8 == 0:
            put(dirs["json"], jobdict)
            put(dirs["json"], jobenvs)
        if i % 3 == 0:
            put(dirs["zip"], home)
    for snippet in JSON_SNIPPETS:
        put(dirs["json"], snippet)
    for case in zip_edge_cases():
        put(dirs["zip"], case)
    # Header edge cases: short, each offset rule, the 4 GiB boundary.
    for offsets in ([128, 129, 129, 129], [128, 128, 128, 128], [0, 0, 0, 0],
                    [128, 200, 150, 300], [128, 200, 300, 250], [128, 129, 130, 0xFFFFFFFF]):
        put(dirs["header"], jobpack.JobPack.header(offsets, version=2) + b"{" * 200)
    for n in range(0, 24, 4):
        put(dirs["header"], struct.pack("!I", 0xD5C00002)[:n] + bytes(max(0, n - 4)))

    total = 0
    for kind, directory in dirs.items():
        files = list(directory.iterdir())
        size = sum(f.stat().st_size for f in files)
        total += size
        print(f"{kind:7s} {len(files):4d} files {size / 1024:8.1f} KiB")
    print(f"total   {total / 1024:8.1f} KiB")


if __name__ == "__main__":
    sys.exit(main())
