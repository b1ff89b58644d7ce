"""The only places hpcfair touches another library's internals, one module per library.

Each module says what it relies on, and tests/test_adapters.py pins that to the
installed version: an upgrade that changes it fails there, by name, instead of
somewhere far away. Everywhere else the libraries' public APIs are used.
"""
