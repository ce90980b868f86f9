"""Reference Producer Portal."""
