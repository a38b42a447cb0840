"""The pure core: no I/O, no clock, no third-party imports.

Everything here is a function of its arguments: a request, a ruleset, a date.
"""
