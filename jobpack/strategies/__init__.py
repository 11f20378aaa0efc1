"""Hypothesis strategies for Disco job packs: valid, malformed and borderline.

Install with the ``hypothesis`` extra (``pip install jobpack[hypothesis]``).
They are meant for testing *other* job pack readers too (a Disco master, a
client library, a CI gate), so the bytes are built here from the format
(SPEC.md), not with ``JobPack.dumps``:

- ``jobdicts(version)``, ``jobenvs()``, ``jobhomes()``: the parts of a pack;
  ``jobhomes()`` are real ZIP archives holding a worker file and modules;
- ``jobpacks(version)``: ``JobPack`` values the master accepts (and that
  ``jobpack.validate(..., strict=True)`` finds nothing wrong with);
  ``packed_jobpacks(version)``: their bytes, as Disco 0.5's ``dumps()``
  writes them;
- ``malformed_jobpacks(kind)``: ``(bytes, code)`` pairs, packs the master
  rejects, each with the problem code ``jobpack.validate(data)[0].code``
  reports (``MALFORMED_KINDS`` lists the kinds, ``MALFORMED_CODES`` the codes
  of each);
- ``strict_violations(kind)``: ``(bytes, code)`` pairs, packs the master
  accepts but a careful check refuses, labelled with the strict code
  (``STRICT_CODES``).

Each pack has one fault, on top of a valid pack, so a failing test shrinks to
a small pack with that fault and nothing else.

Testing another reader (here a hypothetical ``myreader``)::

    import pytest
    from hypothesis import given
    from jobpack import strategies as jps

    @given(jps.packed_jobpacks())
    def test_reads_what_the_master_accepts(data):
        myreader.parse(data)                     # must not raise

    @given(jps.malformed_jobpacks())
    def test_refuses_what_the_master_refuses(case):
        data, code = case
        with pytest.raises(myreader.Error):
            myreader.parse(data)

    @given(jps.malformed_jobpacks("pipeline"))   # one family only
    def test_explains_bad_pipelines(case):
        data, code = case
        assert "pipeline" in str(myreader.check(data))

    @given(jps.strict_violations())
    def test_ci_gate_refuses_what_strict_mode_refuses(case):
        data, code = case                        # e.g. "zip_path_traversal"
        assert not myreader.gate(data)

More, for reaching every rule of the master:

- ``varied_jobpacks(version)``: bytes of valid packs whose JSON is written
  in drawn standard spellings (whitespace, every escape form, raw UTF-8 of
  each length, exponent floats) with, sometimes, one member at an edge of
  the standard (a 4001-digit integer, nesting 401 deep, a float next to the
  double range); ``render_json(value)`` draws such spellings of any value;
- ``labelled_draw(count, seed)``: a deterministic list of labelled packs
  (``Case``: data, kind valid/malformed/strict, code) that first sweeps
  every production of the master's JSON reading (``master_json``) and every
  fault of every family, then draws at random; ``jobpack corpus`` and
  ``jobpack difftest`` use it.

The package has one module per concern: ``_values`` (building blocks),
``valid`` (packs the master accepts), ``varied`` (the same in any standard
spelling), ``master_json`` (the master's JSON productions), ``malformed``
(packs it rejects), ``strict`` (packs only strict mode rejects), ``draw``
(the seeded draw).
"""
from .malformed import MALFORMED_CODES, MALFORMED_KINDS, malformed_jobpacks
from .strict import STRICT_CODES, strict_violations
from ._values import GROUPINGS, worker_paths
from .valid import (disco_dumps, jobdicts, jobenvs, jobhomes, jobpacks,
                    packed_jobpacks)
from .varied import render_json, varied_jobpacks
from .draw import Case, labelled_draw

__all__ = [
    "jobdicts", "jobenvs", "jobhomes", "jobpacks", "packed_jobpacks",
    "malformed_jobpacks", "strict_violations", "worker_paths", "disco_dumps",
    "MALFORMED_KINDS", "MALFORMED_CODES", "STRICT_CODES", "GROUPINGS",
    "varied_jobpacks", "render_json", "labelled_draw", "Case",
]
