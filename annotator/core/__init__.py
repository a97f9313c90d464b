"""Contracts and shared types: the two YAML contracts, errors, endpoint settings, YAML I/O,
and the primitives every stage shares (text.py, lexicon.py, unionfind.py).

Imports nothing else of the project; every other layer builds on it."""
