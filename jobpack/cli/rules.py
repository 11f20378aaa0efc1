"""Every problem code ``validate`` reports, with the help text a user needs.

One place for what each code means: SARIF's rules come from here, and so do
the codes ``--select``/``--ignore`` accept.  A code with a detail after a
colon (``missing_key:prefix``) belongs to the rule before the colon.
"""
from typing import Dict, Iterable, List, NamedTuple, Sequence


class Rule(NamedTuple):
    code: str
    beyond_master: bool  # not the master's verdict (validate --strict's, json_too_deep)
    summary: str
    help: str


def _rules(beyond_master: bool, *rows: Sequence[str]) -> List[Rule]:
    return [Rule(code, beyond_master, summary, help) for code, summary, help in rows]


RULES: Dict[str, Rule] = {r.code: r for r in _rules(
    False,
    ("invalid_header", "The 128-byte header is not a job pack header",
     "The magic (0xd5c0), the offsets or the file length are wrong, so the master cannot "
     "find the sections. Rebuild the pack with 'jobpack pack' or your Disco client."),
    ("unsupported_version", "The header's version is neither 1 nor 2",
     "The master reads version 1 (Disco 0.4 jobdict) and version 2 (0.5+ pipeline "
     "jobdict) only. Rebuild the pack with 'jobpack pack --version 1|2'."),
    ("invalid_json", "A JSON section does not parse the way the master reads it",
     "The jobdict or jobenvs is not JSON in the master's dialect (mochijson2). The message "
     "gives the byte offset of the first error; fix the section and rebuild the pack."),
    ("invalid_utf8", "A JSON section holds bytes the master cannot decode",
     "A string in the jobdict or jobenvs has bytes that are not UTF-8, even in the lax "
     "form the master accepts. Write the section as UTF-8 and rebuild the pack."),
    ("jobdict_not_object", "The jobdict is not a JSON object",
     "The master reads the jobdict as an object of settings (prefix, worker, ...); "
     "anything else crashes it. Write the jobdict as a JSON object."),
    ("jobenvs_not_object", "The jobenvs is not a JSON object",
     "The jobenvs must be an object mapping environment variable names to strings; "
     "use {} for none."),
    ("jobenvs_not_strings", "A jobenvs key or value is not a string",
     "Environment variables are strings: quote every key and value of the jobenvs."),
    ("missing_key", "The jobdict lacks a key the master requires",
     "Every jobdict needs prefix, owner, worker and scheduler; version 2 also pipeline "
     "and inputs, version 1 also input and nr_reduces. The code names the missing key "
     "(missing_key:prefix)."),
    ("prefix_not_string", "The jobdict's prefix is not a string",
     "The prefix names the job; write it as a string such as \"WordCount\"."),
    ("invalid_prefix", "The prefix contains '/' or '.'",
     "The master refuses a prefix with '/' or '.' since it becomes part of paths. Use "
     "letters, digits and '_'."),
    ("save_info_not_string", "save_info is not a string",
     "save_info is where results are saved: a string starting with 'hdfs' or 'ddfs'."),
    ("invalid_job_save_info", "save_info does not start with 'hdfs' or 'ddfs'",
     "The master accepts save_info values of at least 4 characters starting with "
     "'hdfs' or 'ddfs'; the default is 'ddfs'."),
    ("invalid_job_save_results", "save_results is not a boolean",
     "save_results must be true or false."),
    ("invalid_pipeline", "The pipeline is not a list of [stage, grouping, concurrent]",
     "A version 2 pipeline is a list of stages, each [name, grouping, concurrent] with a "
     "string name, a grouping and a boolean."),
    ("repeated_pipeline_stages", "Two pipeline stages have the same name",
     "Every stage of the pipeline needs a name of its own."),
    ("invalid_grouping", "A pipeline stage's grouping is not one the master knows",
     "Groupings are split, group_label, group_all, group_node and group_node_label."),
    ("invalid_job_inputs", "The inputs are not the shape the master reads",
     "Version 2 inputs are a list of [label, size_hint, [url, ...]] items, label and "
     "size_hint integers."),
    ("invalid_v1_input", "A version 1 input is not a URL or a list of URLs",
     "Version 1 inputs are strings (URLs) or lists of replica URLs."),
    ("invalid_v1_flags", "map?, reduce? or nr_reduces has the wrong type",
     "In a version 1 jobdict map? and reduce? are booleans and nr_reduces an integer."),
    ("scheduler_not_object", "The scheduler is not a JSON object",
     "The scheduler holds options such as max_cores; use {} for none."),
) + _rules(
    True,
    ("json_too_deep", "A JSON section nests deeper than jobpack reads",
     "jobpack stops at 100,000 levels of nesting (arrays or objects in one another), so "
     "it cannot say what the master would do: the master would decode it, at great cost. "
     "Reported with or without --strict. Flatten the jobdict or jobenvs."),
    ("reserved_bytes_nonzero", "Header bytes 20-127 are not zero",
     "The master ignores the reserved bytes, but a client that leaves them uninitialised "
     "may leak memory contents into the pack. Write zeros."),
    ("json_dialect_only", "A JSON section uses JSON only the master reads",
     "Trailing commas, bare control characters and the like pass the master's decoder but "
     "break standard JSON readers (and Disco's own client). Write standard JSON."),
    ("duplicate_key", "A JSON object repeats a key",
     "The master keeps the last value in the jobdict and every pair in the jobenvs; other "
     "readers may not. Write each key once."),
    ("prefix_not_portable", "The prefix uses characters outside [a-zA-Z0-9_]",
     "Disco documents prefixes as non-empty [a-zA-Z0-9_]; other characters may break "
     "tools that build paths or URLs from it."),
    ("jobhome_not_zip", "The job home is not a valid ZIP archive",
     "The master unzips the job home before starting the worker; this one cannot be "
     "unzipped. Rebuild it (jobpack pack --home DIR makes a deterministic ZIP)."),
    ("zip_path_traversal", "A job home entry is absolute or climbs out with '..'",
     "The master would unzip the entry outside the job's directory. Remove absolute "
     "paths and '..' components from the job home."),
    ("zip_bomb", "The job home expands far more than its size",
     "It declares more than max(100 x its size, 64 MiB) uncompressed; refuse it as a zip "
     "bomb."),
    ("worker_not_in_home", "The worker is not a file in the job home",
     "The master starts the worker from the job home; a missing worker fails the job at "
     "run time. Add it to the home or fix the jobdict's worker path."),
    ("worker_path_unsafe", "The worker path is absolute or climbs out with '..'",
     "The master would chmod a file outside the job's directory. Use a path inside the "
     "job home."),
    ("pipeline_stage_two_elements", "A pipeline stage has two elements",
     "Some third-party clients write [name, grouping]; the master needs "
     "[name, grouping, concurrent]."),
    ("scheduler_is_string", "The scheduler is a string",
     "Some third-party clients write a string; the master needs a JSON object such as {}."),
)}


def rule_of(code: str) -> str:
    """The rule a problem code belongs to: ``missing_key:prefix`` -> ``missing_key``."""
    return code.split(":", 1)[0]


def matches(code: str, selectors: Iterable[str]) -> bool:
    """Is ``code`` one of the selectors, or does it start with one (a prefix)?"""
    return any(code.startswith(s) for s in selectors)


def unknown_selectors(selectors: Iterable[str]) -> List[str]:
    """The selectors that match no code at all (a typo, most likely)."""
    return [s for s in selectors
            if not any(code.startswith(s) or s.startswith(code + ":") for code in RULES)]
