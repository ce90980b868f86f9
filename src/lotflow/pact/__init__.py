"""Pact contracts for lotflow: provider states, verification and credentials.

See ``contracts/README.md``: what the pacts cover, how to verify a portal, how to use a broker.
"""
