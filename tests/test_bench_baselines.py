"""The plain-Python validator that bench/run.py times validate() against
makes the master's same checks: it must agree with validate() on every
vector, or the benchmark's ratio would compare unequal work."""
import json
import sys
from pathlib import Path

import pytest

from jobpack import JobPack
from jobpack.validate import validate

ROOT = Path(__file__).resolve().parent.parent
VECTORS = Path(__file__).parent / "vectors"
VERDICTS = [json.loads(line) for line in (VECTORS / "verdicts.jsonl").read_text().splitlines()]

sys.path.insert(0, str(ROOT / "bench"))
baselines = pytest.importorskip("baselines")


@pytest.mark.parametrize("vector", VERDICTS, ids=[v["file"] for v in VERDICTS])
def test_plain_validator_agrees_with_validate(vector):
    data = (VECTORS / "packs" / vector["file"]).read_bytes()
    ours = validate(data)
    assert baselines.plain_validate(data) == (ours[0].code if ours else None)
    assert (baselines.plain_validate(data) is None) == vector["master_valid"]


@pytest.mark.parametrize("jobenvs,code", [
    (b'{"A": "1"}', None),
    (b'{"A": 1}', "jobenvs_not_strings"),
    (b'{1: "a"}', "jobenvs_not_strings"),
    (b'["A", "1"]', "jobenvs_not_object"),
    (b'{"A": "\\ud800"}', "invalid_json"),
    (b'{"A": "1", }', None),
    (b'{"A": NaN}', "invalid_json"),
])
def test_plain_validator_reads_jobenvs_as_the_master(jobenvs, code):
    jobdict = json.dumps(baselines.example_jobdict()).encode()
    end = 128 + len(jobdict) + len(jobenvs)
    data = JobPack.header([128, 128 + len(jobdict), end, end], version=2) + jobdict + jobenvs
    ours = validate(data)
    assert (ours[0].code if ours else None) == code
    assert baselines.plain_validate(data) == code


def test_plain_validator_refuses_overflowing_floats_and_odd_escapes():
    for bad in (b'{"prefix": 1e400}', b'{"prefix": "\\ufffe"}', b'{"prefix": "\\udc00"}'):
        envs = b'{}'
        data = JobPack.header([128, 128 + len(bad), 128 + len(bad) + 2, 128 + len(bad) + 2],
                              version=2) + bad + envs
        assert baselines.plain_validate(data) == "invalid_json" == validate(data)[0].code
