"""The HTTP gateway: a Nameko service whose entrypoints are the public API's routes. It owns
no data; it authenticates, authorizes by role, and forwards to the one service that knows."""
import logging

from nameko.dependency_providers import Config

from demeu_common.rpc import TimedRpcProxy

from gateway.contacts import ContactRelay
from gateway.docs import DocsRoutes
from gateway.routes.campaigns import CampaignRoutes
from gateway.routes.events import EventRoutes
from gateway.routes.notifications import NotificationRoutes
from gateway.routes.ops import OpsRoutes
from gateway.routes.payments import PaymentRoutes
from gateway.routes.stats import StatsRoutes
from gateway.routes.talent import TalentRoutes

log = logging.getLogger(__name__)


class GatewayService(OpsRoutes, DocsRoutes, CampaignRoutes, PaymentRoutes, NotificationRoutes, TalentRoutes,
                     StatsRoutes, EventRoutes):
    name = "gateway"

    config = Config()
    campaigns = TimedRpcProxy("campaigns")
    payments = TimedRpcProxy("payments")
    notifications = TimedRpcProxy("notifications")
    talent = TimedRpcProxy("talent")
    contacts = ContactRelay()
