"""The processing log (verwerkingenlogging): writing entries, checkpoints, the witness file, verify
(one entry at a time and in bulk), the binding of rows to entries, and data breaches.
"""
