from gateway.http import route
from gateway.routes import actor_of, page_args


class NotificationRoutes:
    @route("GET", "/v1/me/notifications", auth="required", tag="notifications",
           summary="My inbox, newest first, in my language")
    def my_notifications(self, request):
        return self.notifications.list_notifications(actor_of(request), **page_args(request))

    @route("POST", "/v1/me/notifications/<string:notification_id>/read", auth="required",
           tag="notifications", summary="Mark a notification read")
    def mark_read(self, request, notification_id):
        return self.notifications.mark_read(actor_of(request), notification_id)

    @route("PUT", "/v1/me/notification-preferences", auth="required", tag="notifications",
           summary="Turn email or inbox notifications on or off")
    def set_preferences(self, request):
        return self.notifications.set_preferences(actor_of(request), request.json_body)
