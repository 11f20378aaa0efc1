"""``jobpack difftest``: where does another reader disagree with the master?"""
import argparse
import os
import sys

from .common import FAIL, OK, CLIError, _os_reason


def run(args: argparse.Namespace) -> int:
    try:
        from ..difftest import difftest, reader_command
        from ..corpus import _open_directory, _write_at
    except ImportError as e:
        raise CLIError(f"{e}: install it with 'pip install jobpack[hypothesis]'") from e
    try:
        reader_command(args.reader, "PACK")
    except ValueError as e:
        raise CLIError(f"--reader: {e}") from e
    try:
        found = difftest(args.reader, args.count, args.seed, args.kind, args.timeout)
        save_fd = _open_directory(args.save) if args.save and found else None
    except OSError as e:
        raise CLIError(_os_reason(e)) from e
    try:
        for item in found:
            print(item.describe())
            if save_fd is not None:
                name = f"disagreement-{item.index:05d}.pack"
                _write_at(save_fd, name, item.shrunk)
                print(f"  saved as {args.save}/{name}")
    finally:
        if save_fd is not None:
            os.close(save_fd)
    verdict = f"{len(found)} disagreement{'s' if len(found) != 1 else ''}" if found \
        else "no disagreement"
    print(f"difftest: {verdict} (count {args.count}, seed {args.seed})", file=sys.stdout)
    return FAIL if found else OK
