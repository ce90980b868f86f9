"""The reference portals: full implementations of each side of the contract."""
