"""Contracts and shared types: the two YAML contracts, errors, endpoint settings, YAML I/O.

Imports nothing else of the project; every other layer builds on it."""
