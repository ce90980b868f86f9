"""Reference Buyer Portal."""
