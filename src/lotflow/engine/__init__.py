"""The scenario engine: load declarative stories and run them between two parties, emitting
events."""
