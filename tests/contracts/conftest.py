"""The Pact core reports usage to the network unless told not to: these tests stay offline."""

from __future__ import annotations

import os

os.environ.setdefault("PACT_DO_NOT_TRACK", "true")
