"""Scopegate's Python SDK: manage machine users and scoped tokens."""

__version__ = "0.1.0"
