"""The scenario engine: load declarative stories and run them between two parties.

The engine emits results as events (:mod:`lotflow.engine.events`) and never prints.
"""
