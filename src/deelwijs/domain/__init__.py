"""The pure core: no I/O, no clock, no framework.

Everything here is a function of its arguments: a request, a ruleset, a date. Besides the
standard library it imports two declared libraries, both pure computation: `cryptography`
for the Ed25519 signatures of the processing log's checkpoints (checkpoint.py), and
python-stdnum (`stdnum`) for the elfproef of a BSN (bsn.py); of Deelwijs itself only
`deelwijs.errors`, the base of every error class (which imports nothing). `.importlinter`
(contract "pure-domain") holds it to that.
"""
