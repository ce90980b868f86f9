"""The shipped scenario catalogue (YAML stories) and the scenario file schema."""
