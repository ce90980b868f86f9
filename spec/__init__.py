"""The contract itself: OpenAPI 3.1 documents and workflow state machines (data, not code)."""
