"""The reference Buyer Portal: every operation and webhook of ``spec/openapi/buyer.yaml``.

    settings = BuyerSettings.from_env(os.environ)
    app = create_app(settings)            # FastAPI; the dispatcher runs in its lifespan

Modules: ``settings`` (environment), ``tables``/``store``/``kinds`` (persistence), ``lots``,
``marketplace``, ``bids``, ``counters``, ``contracts``, ``notifications``, ``deliveries``
(operations), ``settle`` (awards and cascades), ``rules`` (business rules), ``expiry`` (timers),
``outbox``, ``leases``, ``sender``, ``retry`` and ``dispatcher`` (webhook delivery), ``auth``,
``handlers``, ``app``.
"""

from lotflow.reference.buyer.app import create_app
from lotflow.reference.buyer.dispatcher import Dispatcher
from lotflow.reference.buyer.settings import BuyerSettings, Operator

__all__ = ["BuyerSettings", "Dispatcher", "Operator", "create_app"]
