"""``jobpack corpus``: a labelled corpus of generated packs."""
import argparse
from collections import Counter

from .common import OK, CLIError, _os_reason


def run(args: argparse.Namespace) -> int:
    try:
        from ..corpus import write_corpus
        entries = write_corpus(args.directory, args.count, args.seed, args.kind)
    except ImportError as e:
        raise CLIError(f"{e}: install it with 'pip install jobpack[hypothesis]'") from e
    except OSError as e:
        raise CLIError(_os_reason(e)) from e
    counts = Counter(e["kind"] for e in entries)
    summary = ", ".join(f"{counts[k]} {k}" for k in ("valid", "malformed", "strict") if counts[k])
    print(f"wrote {len(entries)} packs ({summary or 'none'}) and MANIFEST.jsonl "
          f"to {args.directory}")
    return OK
