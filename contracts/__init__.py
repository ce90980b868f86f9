"""lotflow's Pact contracts (``pacts/``), installed as ``lotflow.contracts`` so that
``lotflow pact verify`` finds them after any kind of install (see README.md here)."""
