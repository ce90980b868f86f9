"""Pact contracts for lotflow: provider states, verification, credentials (see contracts/README.md)."""
