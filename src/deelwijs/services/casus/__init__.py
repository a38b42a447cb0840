"""The casusoverleg: youths, consent, cases, meetings, the municipal workflow, and every disclosure
with the stored facts the engine reads.
"""
