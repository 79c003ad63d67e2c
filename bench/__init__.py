"""Benchmarks that print figures: ``make bench`` runs all, ``python -m bench.NAME`` one."""
