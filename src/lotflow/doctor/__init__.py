"""``lotflow doctor``: check the two portals' configuration against each other before anything
runs, and optionally probe the live portals.

    pair = Pair(read_env_file(buyer_path), read_env_file(producer_path))
    findings = check_pair(pair)                      # static: files only
    findings += probe_pair(pair, buyer_url, producer_url)   # live: reads nothing private

Modules: ``envfile`` (dotenv files as written in practice), ``pair`` (both sides, the variable
names from the reference settings registry, the portals' addresses), ``keys`` (key bytes,
fingerprints, published examples), ``secretchecks``, ``urlchecks``, ``filechecks`` (the static
checks), ``probes`` (the live ones), ``findings`` (the data, with a stable id per kind),
``report`` (terminal table and JSON). Checks yield findings; only reporters print.
"""

from lotflow.doctor.checks import check_pair
from lotflow.doctor.envfile import EnvFile, parse_env_text, read_env_file
from lotflow.doctor.findings import KINDS, Finding, Kind, Severity
from lotflow.doctor.pair import Pair

__all__ = [
    "KINDS",
    "EnvFile",
    "Finding",
    "Kind",
    "Pair",
    "Severity",
    "check_pair",
    "parse_env_text",
    "read_env_file",
]
