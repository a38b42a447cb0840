"""The covenant: regions, parties, signatures, mandates, accession forms and the rulesets a region
runs.
"""
