"""The event log for systems that were offline (contract §8): ``GET /v1/events``."""
from gateway.http import route
from gateway.routes import actor_of, page_args


class EventRoutes:
    @route("GET", "/v1/events", auth="required", roles=("subscriber", "admin"), tag="events",
           query=["cursor", "types", "limit"],
           summary="Replay the event log in recording order; next_cursor is never null")
    def replay_events(self, request):
        types = [t.strip() for t in (request.args.get("types") or "").split(",") if t.strip()]
        return self.notifications.replay_events(actor_of(request), types=types or None, **page_args(request))
