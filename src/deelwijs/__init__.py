"""Deelwijs: the regional privacy covenant as code ("deel wijs": share wisely)."""

__version__ = "0.1.0"
