"""Shared fixtures and helpers of the jobpack test suite.

Tests import the installed package (run pytest from outside the source tree,
after ``pip install -e .``); importing ``jobpack._native`` here fails at once
if the compiled cffi extension is missing, instead of in every test.
"""
import importlib.machinery
import json
import os
from pathlib import Path

import pytest

import jobpack
import jobpack._native

# The compiled cffi extension, not a pure-Python stand-in.
assert jobpack._native.__file__.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), \
    jobpack._native.__file__
assert hasattr(jobpack._native, "ffi") and hasattr(jobpack._native, "lib")

VECTORS_DIR = Path(__file__).parent / "vectors"

# Property tests run a quick smoke by default; JOBPACK_SLOW=1 runs 20x more.
SLOW = os.environ.get("JOBPACK_SLOW", "") not in ("", "0")


def examples(n: int) -> int:
    """max_examples for a property test: n, or 20 n under JOBPACK_SLOW=1."""
    return n * 20 if SLOW else n
PACKS_DIR = VECTORS_DIR / "packs"


def _read_jsonl(path: Path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_verdicts():
    """The master's verdicts, one dict per pack file (vectors/README.md)."""
    return _read_jsonl(VECTORS_DIR / "verdicts.jsonl")


def load_dumps_vectors():
    """Serialisation vectors: inputs and Disco 0.5's exact dumps() bytes."""
    return _read_jsonl(VECTORS_DIR / "dumps_vectors.jsonl")


def pack_bytes(name: str) -> bytes:
    return (PACKS_DIR / name).read_bytes()


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    return VECTORS_DIR


@pytest.fixture(scope="session")
def verdicts():
    return load_verdicts()


@pytest.fixture(scope="session")
def dumps_vectors():
    return load_dumps_vectors()
