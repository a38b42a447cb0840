"""The data subject's rights (AVG art. 15-21): requests, inzage, rectification, restriction,
objection, erasure; retention and the keys that make crypto-shredding possible.
"""
