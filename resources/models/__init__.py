"""Embedded models (weights as data files)."""
