"""Simulators: stand-ins for one party, so a team can test its own portal alone.

:class:`BuyerSimulator` plays the buyer against a real producer portal; :class:`ProducerSimulator`
plays the producer against a real buyer portal. Both reuse the reference portals' behaviour and
add control (``/_lotflow/`` and Python methods), recording (HAR 1.2), validation against the spec
(:class:`Finding`) and faults from a :class:`FaultPlan`. See docs/simulators.md.
"""

from lotflow.simulators.buyer import BuyerSimulator
from lotflow.simulators.control import ActionError, ControlClient
from lotflow.simulators.faults import (
    ANSWER_FAULTS,
    WEBHOOK_FAULTS,
    FaultPlan,
    FaultPlanError,
    FaultRule,
    load_fault_plan,
    parse_fault_plan,
    plan_from_flags,
)
from lotflow.simulators.findings import RULES, Finding
from lotflow.simulators.producer import ProducerSimulator
from lotflow.simulators.recording import Exchange, Recording, read_har

__all__ = [
    "ANSWER_FAULTS",
    "RULES",
    "WEBHOOK_FAULTS",
    "ActionError",
    "BuyerSimulator",
    "ControlClient",
    "Exchange",
    "FaultPlan",
    "FaultPlanError",
    "FaultRule",
    "Finding",
    "ProducerSimulator",
    "Recording",
    "load_fault_plan",
    "parse_fault_plan",
    "plan_from_flags",
    "read_har",
]
