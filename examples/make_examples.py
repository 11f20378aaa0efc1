#!/usr/bin/env python3
"""Build the example job packs in this folder, byte for byte the same every time.

    python examples/make_examples.py              # rewrite examples/*.jobpack
    python examples/make_examples.py --out DIR    # write them somewhere else
    python examples/make_examples.py --check      # exit 1 if the committed files differ

- wordcount-v2.jobpack: a version-2 (Disco 0.5+) word count, map then reduce,
  whose job home holds the worker and a helper module;
- classic-v1.jobpack: a version-1 (Disco 0.4) map/reduce job;
- invalid-prefix.jobpack: the word count with the prefix "a/b", which the master
  rejects ("invalid prefix").

Each job home is made by jobpack.home.build from a temporary directory whose
files, contents and modes are fixed here, so the zip is deterministic (sorted
entries, 1980-01-01 timestamps).  Entries are stored, not deflated: deflate's
output depends on the zlib build (zlib-ng gives other bytes), stored data does
not, so the committed files can be checked on any machine.
"""
import argparse
import os
import sys
import tempfile
import zipfile
from typing import Dict, Tuple

from jobpack import JobPack, home

HERE = os.path.dirname(os.path.abspath(__file__))

WORDCOUNT_WORKER = '''\
#!/usr/bin/env python3
"""Word count worker (example job home): map splits lines into words,
reduce sums the counts per word."""
import sys

from wordcount_lib import count_words


def main():
    counts = count_words(sys.stdin)
    for word, count in sorted(counts.items()):
        print(f"{word}\\t{count}")


if __name__ == "__main__":
    main()
'''

WORDCOUNT_LIB = '''\
"""Helpers of the word count worker."""
from collections import Counter


def count_words(lines):
    counts = Counter()
    for line in lines:
        counts.update(line.split())
    return counts
'''

CLASSIC_WORKER = '''\
#!/usr/bin/env python3
"""Classic map/reduce worker (example job home, Disco 0.4 style)."""


def map(line, params):
    for word in line.split():
        yield word, 1


def reduce(iter, params):
    from itertools import groupby
    for word, counts in groupby(sorted(iter), key=lambda kv: kv[0]):
        yield word, sum(c for _, c in counts)
'''

# (path in the job home, mode, content); directories get mode 0755.
Home = Tuple[Tuple[str, int, str], ...]

WORDCOUNT_HOME: Home = (
    ("wordcount.py", 0o755, WORDCOUNT_WORKER),
    ("lib/wordcount_lib.py", 0o644, WORDCOUNT_LIB),
)
CLASSIC_HOME: Home = (
    ("classic_worker.py", 0o755, CLASSIC_WORKER),
)

JOBENVS = {"PYTHONPATH": "lib", "LC_ALL": "C.UTF-8"}


def wordcount_jobdict(prefix: str) -> Dict[str, object]:
    return {
        "prefix": prefix,
        "owner": "alice@example.org",
        "worker": "wordcount.py",
        "save_results": False,
        "save_info": "ddfs",
        "pipeline": [["map", "split", False], ["reduce", "group_all", False]],
        "inputs": [
            [0, 0, ["http://discoproject.org/media/text/chekhov.txt"]],
            [0, 0, ["raw://hello world", "raw://hello again"]],
        ],
        "scheduler": {"max_cores": 8},
    }


CLASSIC_JOBDICT = {
    "prefix": "ClassicWordCount",
    "owner": "bob@example.org",
    "worker": "classic_worker.py",
    "input": ["http://discoproject.org/media/text/chekhov.txt",
              ["disco://node1/data/part-1", "disco://node2/data/part-1"]],
    "map?": True,
    "reduce?": True,
    "reduce_shuffle?": False,
    "nr_reduces": 1,
    "scheduler": {"max_cores": 4, "force_local": False, "force_remote": False},
}


def build_home(files: Home) -> bytes:
    """A job home zip from fixed files, modes and contents."""
    with tempfile.TemporaryDirectory() as tmp:
        for path, mode, content in files:
            full = os.path.join(tmp, *path.split("/"))
            parent = os.path.dirname(full)
            os.makedirs(parent, exist_ok=True)
            with open(full, "w", encoding="utf-8", newline="\n") as f:
                f.write(content)
            os.chmod(full, mode)
        for dirpath, dirnames, _ in os.walk(tmp):
            for d in dirnames:
                os.chmod(os.path.join(dirpath, d), 0o755)
        return home.build(tmp, compression=zipfile.ZIP_STORED)


def examples() -> Dict[str, JobPack]:
    wordcount_home = build_home(WORDCOUNT_HOME)
    return {
        "wordcount-v2.jobpack": JobPack(2, wordcount_jobdict("WordCount"), JOBENVS,
                                        wordcount_home, b""),
        "classic-v1.jobpack": JobPack(1, CLASSIC_JOBDICT, {"LC_ALL": "C.UTF-8"},
                                      build_home(CLASSIC_HOME), b"params: none\n"),
        "invalid-prefix.jobpack": JobPack(2, wordcount_jobdict("a/b"), JOBENVS,
                                          wordcount_home, b""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=HERE, help="where to write (default: this folder)")
    parser.add_argument("--check", action="store_true",
                        help="compare with the files in --out instead of writing")
    args = parser.parse_args()
    differ = []
    for name, pack in examples().items():
        path = os.path.join(args.out, name)
        data = pack.dumps()
        if args.check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                differ.append(name)
            continue
        os.makedirs(args.out, exist_ok=True)
        pack.dump(path)
        print(f"wrote {path} ({len(data)} bytes)")
    if differ:
        print(f"out of date: {', '.join(differ)} (run {sys.argv[0]})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
