"""Accord benchmarks (DESIGN.md §9): figures compared with a hand-written baseline.

Run ``python -m bench full-sync --records 10000`` from the repository root; see
``docs/benchmarks.md``.
"""
