"""``lotflow doctor``: check the two portals' configuration against each other."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

import click

from lotflow.doctor import Pair, Severity, check_pair, read_env_file
from lotflow.doctor.envfile import EnvFile
from lotflow.doctor.pair import PORT, registry
from lotflow.doctor.probes import probe_pair
from lotflow.doctor.report import DoctorResult, JsonReporter, TerminalReporter

ENV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
LEVELS = [severity.label for severity in Severity]


def _url(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not an http(s) URL; expected e.g. http://localhost:3004", param=param
        )
    return value


@click.command()
@click.option("--buyer-env", type=ENV_FILE, required=True, help="The buyer portal's .env file.")
@click.option(
    "--producer-env", type=ENV_FILE, required=True, help="The producer portal's .env file."
)
@click.option("--buyer", metavar="URL", callback=_url, help="Also probe the running buyer.")
@click.option("--producer", metavar="URL", callback=_url, help="Also probe the running producer.")
@click.option(
    "--env",
    "use_environ",
    is_flag=True,
    help="Let the process environment fill variables the files do not set (off: files only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
@click.option(
    "--fail-on",
    type=click.Choice(LEVELS),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at least this severe.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 120),
    default=5.0,
    show_default=True,
    help="Seconds per probe request.",
)
def doctor(
    buyer_env: Path,
    producer_env: Path,
    buyer: str | None,
    producer: str | None,
    use_environ: bool,
    as_json: bool,
    fail_on: str,
    timeout: float,
) -> None:
    """Check the buyer's and the producer's configuration against each other: secrets that must
    match (compared by fingerprint, never printed), missing, weak or published secrets, reused
    keys, URLs that miss the other portal, the legacy bearer dialect. With --buyer/--producer,
    also probe the running portals (nothing private is read, no state changes).

    Exit codes: 0 no finding at or above --fail-on, 1 such findings, 2 an unreadable file or a
    bad argument.
    """
    files = [read_env_file(buyer_env), read_env_file(producer_env)]
    if use_environ:
        files = [
            _with_environ(f, portal) for f, portal in zip(files, ("buyer", "producer"), strict=True)
        ]
    pair = Pair(files[0], files[1], buyer_url=buyer, producer_url=producer)
    findings = check_pair(pair)
    if buyer or producer:
        findings += probe_pair(pair, timeout=timeout)
    result = DoctorResult(pair, findings, Severity[fail_on.upper()])
    reporter = JsonReporter(sys.stdout) if as_json else TerminalReporter(sys.stdout)
    reporter.report(result)
    sys.exit(result.exit_code)


def _with_environ(env_file: EnvFile, portal: str) -> EnvFile:
    names = {PORT}
    for variable in registry("buyer" if portal == "buyer" else "producer").values():
        names.update((variable.name, *variable.aliases))
    return env_file.with_fallback(os.environ, names)
