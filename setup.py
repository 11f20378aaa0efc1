from setuptools import setup

# Metadata lives in pyproject.toml; this file only wires in the cffi build.
# cffi compiles the extension against the stable ABI (Py_LIMITED_API, named
# _native.abi3.so), so one wheel, tagged cp39-abi3, serves CPython 3.9 and
# later; on PyPy the tag is PyPy's own.
setup(cffi_modules=["csrc/jobpack_build.py:ffibuilder"],
      options={"bdist_wheel": {"py_limited_api": "cp39"}})
