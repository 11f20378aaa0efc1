"""``jobpack inspect``: show what is inside a pack."""
import argparse
import io
import stat
import sys
from typing import Any, Dict, List, Optional, TextIO, Tuple

from .. import dialect, errors, home
from ..pack import VERSION1, VERSION2, PackView
from ..validate import MasterRejection, jobinfo, validate
from .common import OK, CLIError, _display, _open_view, _problem_json
from .escape import inert, json_name, name
from .pretty import _clip, _dumps, _pairs_object_text, _pretty, _short


def _decode_section(section: memoryview, name: str, base: int, pairs: bool) -> Tuple[Any, Any]:
    """(value, None) or (None, JSONDecodeError) as the master reads it."""
    try:
        return dialect.loads(section, name=name, base_offset=base, pairs=pairs), None
    except errors.JSONDecodeError as e:
        return None, e


#: inspect lists at most this many job home entries (and says how many it
#: leaves out): a home of a million entries is 86 MB, its listing 1.4 GB.
MAX_LISTED_ENTRIES = 1000


def _home_entries(view: PackView) -> Tuple[Optional[home.ZipScan], List[home.ZipEntry],
                                           Optional[errors.ZipError]]:
    if len(view.jobhome) == 0:
        return None, [], None
    try:
        summary = home.scan(view.jobhome)
        return summary, home.entries(view.jobhome, limit=MAX_LISTED_ENTRIES), None
    except errors.ZipError as e:
        return None, [], e


def _entry_flags(entry: home.ZipEntry) -> List[str]:
    flags = []
    if entry.is_absolute:
        flags.append("absolute path")
    if entry.has_dotdot:
        flags.append("'..' component")
    if entry.has_backslash:
        flags.append("backslash")
    if entry.has_nul:
        flags.append("NUL in name")
    if entry.is_symlink:
        flags.append("symlink")
    if entry.is_encrypted:
        flags.append("encrypted")
    return flags


def _permissions(entry: home.ZipEntry) -> Optional[str]:
    """ls-style permissions; the file type from the name when the mode has none."""
    if entry.mode is None:
        return None
    mode = entry.mode
    if not stat.S_IFMT(mode):
        mode |= stat.S_IFDIR if entry.is_dir else stat.S_IFREG
    return stat.filemode(mode)


def _inspect_data(path: str, view: PackView) -> Dict[str, Any]:
    """Everything inspect shows, as plain data (the --json document)."""
    header = view.header
    names = ("jobdict", "jobenvs", "jobhome", "jobdata")
    doc: Dict[str, Any] = {**json_name("path", path), "size": len(view.buffer)}
    doc["header"] = {
        "magic": f"0x{header.magic:04x}",
        "version": header.version,
        "version_supported": header.version in (VERSION1, VERSION2),
        "offsets": dict(zip(names, header.offsets)),
        "sizes": dict(zip(names, header.section_sizes)),
        "reserved_zero": header.reserved_nonzero is None,
        "reserved_first_nonzero": header.reserved_nonzero,
    }
    jobdict, dict_error = _decode_section(view.jobdict, "jobdict", header.offsets[0], False)
    envs, envs_error = _decode_section(view.jobenvs, "jobenvs", header.offsets[1], True)
    doc["jobdict"] = _clip(jobdict)
    doc["jobdict_error"] = None if dict_error is None else {
        "message": dict_error.message, "offset": dict_error.offset}
    # An object's pairs in file order, repeated keys kept (the master keeps
    # them in the jobenvs); anything else as it is.
    is_object = envs_error is None and bytes(view.jobenvs).lstrip(b" \t\r\n")[:1] == b"{"
    doc["jobenvs_is_object"] = is_object
    if is_object:
        doc["jobenvs"] = [[str(k), _clip(v, pairs=True)] for k, v in envs]
    else:
        doc["jobenvs"] = _clip(envs, pairs=True)
    doc["jobenvs_error"] = None if envs_error is None else {
        "message": envs_error.message, "offset": envs_error.offset}
    summary, entries, zip_error = _home_entries(view)
    total = 0 if summary is None else summary.entries
    doc["home"] = {
        "size": len(view.jobhome),
        "entry_count": total,
        "entries_not_shown": total - len(entries),
        "uncompressed_size": 0 if summary is None else summary.total_uncompressed,
        "entries": [{**json_name("name", e.name, e.raw_name), "size": e.size,
                     "compressed_size": e.compressed_size,
                     "mode": e.mode, "mode_octal": None if e.mode is None else f"{e.mode:o}",
                     "permissions": _permissions(e), "is_dir": e.is_dir, "method": e.method,
                     "flags": _entry_flags(e)}
                    for e in entries],
        "error": None if zip_error is None else str(zip_error),
    }
    doc["jobdata_size"] = len(view.jobdata)
    try:
        doc["jobinfo"], doc["rejection"] = _clip(jobinfo(view.buffer)), None
    except MasterRejection as r:
        doc["jobinfo"], doc["rejection"] = None, _problem_json(r.problem)
    doc["problems"] = [_problem_json(p) for p in validate(view.buffer, strict=True)]
    return doc


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


def _raw_preview(section: memoryview, limit: int = 200) -> str:
    raw = bytes(section[:limit])
    more = f" ... ({len(section) - limit} more bytes)" if len(section) > limit else ""
    return f"{raw!r}{more}"


def _shown_name(entry: Dict[str, Any], key: str = "name") -> str:
    """A name of the document as text: exact bytes, control characters escaped."""
    if key + "_bytes" in entry:
        return name(bytes.fromhex(entry[key + "_bytes"]).decode("utf-8", "surrogateescape"))
    return name(entry[key])


def _print_inspect(path: str, doc: Dict[str, Any], view: PackView, out: TextIO) -> None:
    h = doc["header"]
    w = out.write
    w(f"{name(_display(path))}: {doc['size']} bytes\n")
    w("header\n")
    w(f"  magic     {h['magic']}\n")
    supported = "" if h["version_supported"] else " (the master reads only 1 and 2)"
    w(f"  version   {h['version']}{supported}\n")
    w("  offsets   " + ", ".join(f"{k} {v}" for k, v in h["offsets"].items()) + "\n")
    w("  sizes     " + ", ".join(f"{k} {v}" for k, v in h["sizes"].items()) + "\n")
    if h["reserved_zero"]:
        w("  reserved  bytes 20-127 all zero\n")
    else:
        w(f"  reserved  NOT all zero: first non-zero byte at {h['reserved_first_nonzero']} "
          f"(the master ignores them)\n")

    w(f"jobdict ({h['sizes']['jobdict']} bytes)\n")
    if doc["jobdict_error"] is None:
        w(_indent(_pretty(doc["jobdict"])) + "\n")
    else:
        w(f"  cannot be read: {inert(doc['jobdict_error']['message'])} "
          f"(at byte {doc['jobdict_error']['offset']})\n")
        w(f"  raw: {_raw_preview(view.jobdict)}\n")

    w(f"jobenvs ({h['sizes']['jobenvs']} bytes)\n")
    if doc["jobenvs_error"] is not None:
        w(f"  cannot be read: {inert(doc['jobenvs_error']['message'])} "
          f"(at byte {doc['jobenvs_error']['offset']})\n")
        w(f"  raw: {_raw_preview(view.jobenvs)}\n")
    elif doc["jobenvs_is_object"]:
        w(_indent(_pairs_object_text(doc["jobenvs"])) + "\n")
    else:
        w(_indent(_pretty(doc["jobenvs"])) + "\n")

    hm = doc["home"]
    entries = hm["entries"]
    count = hm["entry_count"]
    w(f"job home ({hm['size']} bytes, {count} entr{'y' if count == 1 else 'ies'}"
      f", {hm['uncompressed_size']} bytes uncompressed)\n")
    if hm["error"] is not None:
        w(f"  not a readable ZIP archive: {inert(hm['error'])}\n")
    if entries:
        size_w = max(4, max(len(str(e["size"])) for e in entries))
        comp_w = max(10, max(len(str(e["compressed_size"])) for e in entries))
        w(f"  {'mode':<4} {'permission':<10} {'size':>{size_w}} {'compressed':>{comp_w}}  name\n")
        for e in entries:
            octal = "-" if e["mode"] is None else f"{e['mode'] & 0o7777:04o}"
            perms = e["permissions"] or "-"
            flags = f"  [{', '.join(e['flags'])}]" if e["flags"] else ""
            w(f"  {octal:<4} {perms:<10} {e['size']:>{size_w}} {e['compressed_size']:>{comp_w}}"
              f"  {_shown_name(e)}{flags}\n")
        if hm["entries_not_shown"]:
            w(f"  ... and {hm['entries_not_shown']} more entries, not shown (inspect lists "
              f"the first {MAX_LISTED_ENTRIES})\n")
    w(f"job data: {doc['jobdata_size']} bytes\n")

    info = doc["jobinfo"]
    if info is None:
        r = doc["rejection"]
        where = "" if r["offset"] is None else f" at byte {r['offset']}"
        w(f"effective job: none, the master rejects this pack\n  {r['code']}{where}: "
          f"{inert(r['message'])}\n")
    else:
        w("effective job (what the master runs)\n")
        for key in ("prefix", "owner", "worker", "save_results", "save_info"):
            w(f"  {key:<13} {_short(info[key])}\n")
        w(f"  {'jobenvs':<13} {len(info['jobenvs'])} variable(s)\n")
        stages = info["pipeline"]
        w(f"  {'pipeline':<13} {len(stages)} stage(s)\n")
        for n, (stage, grouping, concurrent) in enumerate(stages, 1):
            conc = ", concurrent" if concurrent else ""
            w(f"    {n}. {_short(stage, 40)} ({grouping}{conc})\n")
        inputs = info["inputs"]
        w(f"  {'inputs':<13} {len(inputs)}\n")
        for item in inputs[:20]:
            w(f"    {_describe_input(item)}\n")
        if len(inputs) > 20:
            w(f"    ... and {len(inputs) - 20} more\n")
        s = info["schedule"]
        w(f"  {'schedule':<13} locality {s['locality']}, max_cores {_short(s['max_cores'])}\n")

    strict = [p for p in doc["problems"] if p["beyond_master"]]
    if strict:
        w("beyond the master (validate --strict)\n")
        for p in strict:
            where = "" if p["offset"] is None else f" at byte {p['offset']}"
            w(f"  {p['code']}{where}: {inert(p['message'])}\n")


def _describe_input(item: Dict[str, Any]) -> str:
    if item.get("type") == "dir":
        return f"#{item['id']} dir {_short(item['url'], 80)} (host {_short(item['host'])})"
    replicas = ", ".join(_short(url, 80) for url, _host in item["replicas"][:3])
    more = f" (+{len(item['replicas']) - 3} replicas)" if len(item["replicas"]) > 3 else ""
    return (f"#{item['id']} label {_short(item['label'])}, size hint {_short(item['size'])}: "
            f"{replicas}{more}")


def run(args: argparse.Namespace) -> int:
    if list(args.paths).count("-") > 1:
        raise CLIError("'-' (standard input) can be given only once")
    document = None
    if args.format == "json":
        from .formats.json import JSONDocument

        def dumps(item: Any) -> str:  # ASCII, DEL escaped too: nothing a terminal obeys
            return _dumps(item, indent=2).replace("\x7f", "\\u007f")

        document = JSONDocument(sys.stdout, "inspect", True, dumps=dumps)
    status, count, valid = OK, 0, 0
    errors_seen: List[Tuple[str, str]] = []
    for path in args.paths:
        try:
            view = _open_view(path)
        except CLIError as e:  # say so, and show the other packs
            if args.debug:
                raise
            print(f"jobpack inspect: {inert(str(e))}", file=sys.stderr)
            errors_seen.append((path, str(e)))
            status = max(status, e.code)
            continue
        doc = _inspect_data(path, view)
        count += 1
        valid += not doc["problems"]
        if document is not None:
            document.pack({**json_name("path", path), "valid": not doc["problems"],
                           "master_accepts": doc["rejection"] is None, **doc})
        else:
            text = io.StringIO()
            _print_inspect(path, doc, view, text)
            sys.stdout.write(("\n" if count > 1 else "")
                             + inert(text.getvalue(), keep_newlines=True))
    if document is not None:
        document.close(errors_seen, count, valid)
    return status
