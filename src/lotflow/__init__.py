"""lotflow: contract testing and simulation for the Buyer Portal / Producer Portal integration."""

__version__ = "0.1.0"
