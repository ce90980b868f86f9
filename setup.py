"""Package layout: the top-level folders are installed as subpackages of ``lotflow``.

``spec/``, ``reference/``, ``scenarios/``, ``simulators/`` and ``contracts/`` say what the system
is (see ARCHITECTURE.md), so they stay at the top of the repository; installed, they are
``lotflow.spec``, ``lotflow.reference`` and so on, so that ``lotflow demo`` finds the contract and
the catalogue, and ``lotflow pact verify`` the pacts, after any kind of install. Everything else
about the package lives in pyproject.toml.
"""

from setuptools import find_packages, setup

MAPPED = ("spec", "reference", "scenarios", "simulators", "contracts")

packages = find_packages("src")
for folder in MAPPED:
    packages += [f"lotflow.{name}" for name in find_packages(".", include=[folder, f"{folder}.*"])]

setup(
    packages=packages,
    package_dir={"lotflow": "src/lotflow", **{f"lotflow.{folder}": folder for folder in MAPPED}},
)
