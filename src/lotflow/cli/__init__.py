"""The ``lotflow`` command line: one entry point over the whole kit.

Exit codes (documented in every command's help): 0 everything passed, 1 a contract or scenario
failure, 2 a usage or configuration error (bad file, broken spec, unreachable URL), always with a
message naming the bad value and what was expected; 130 when Ctrl-C or SIGTERM stopped it.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from lotflow import __version__
from lotflow.errors import LotflowError
from lotflow.interrupts import EXIT_INTERRUPTED, sigterm_interrupts, stopped_by

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class LotflowGroup(click.Group):
    """A click group that turns lotflow's own errors into a clear message and exit code 2, and
    SIGTERM into the Ctrl-C every command already cleans up after (``lotflow.interrupts``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with sigterm_interrupts():
                return super().invoke(ctx)
        except LotflowError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:  # a command with nothing of its own to clean up
            click.secho(f"\nInterrupted ({stopped_by()}).", fg="yellow", err=True)
            sys.exit(EXIT_INTERRUPTED)


@click.group(cls=LotflowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="lotflow")
def main() -> None:
    """lotflow: contract testing and simulation for the Buyer Portal ↔ Producer Portal
    integration (lots, bids, counter-offers, contracts, signed webhooks).

    Exit codes: 0 all passed, 1 a contract or scenario failure, 2 a usage or configuration error,
    130 stopped by Ctrl-C or SIGTERM.
    """


def _register() -> None:
    from lotflow.cli.demo import demo
    from lotflow.cli.doctor import doctor
    from lotflow.cli.explore import explore_command
    from lotflow.cli.pact import pact
    from lotflow.cli.scenario import scenario
    from lotflow.cli.serve import serve
    from lotflow.cli.simulate import simulate
    from lotflow.cli.spec import spec
    from lotflow.cli.verify import verify

    for command in (demo, doctor, pact, scenario, serve, simulate, spec, verify):
        main.add_command(command)
    main.add_command(explore_command, "explore")


_register()
