from notifications.schemas import PreferencesSchema, WebhookSchema

from gateway.http import route
from gateway.routes import actor_of, created, page_args


class NotificationRoutes:
    @route("GET", "/v1/me/notifications", auth="required", tag="notifications",
           summary="My inbox, newest first, in my language")
    def my_notifications(self, request):
        return self.notifications.list_notifications(actor_of(request), **page_args(request))

    @route("POST", "/v1/me/notifications/<string:notification_id>/read", auth="required",
           tag="notifications", summary="Mark a notification read")
    def mark_read(self, request, notification_id):
        return self.notifications.mark_read(actor_of(request), notification_id)

    @route("GET", "/v1/me/notification-preferences", auth="required", tag="notifications",
           summary="My notification preferences")
    def get_preferences(self, request):
        return self.notifications.get_preferences(actor_of(request))

    @route("PUT", "/v1/me/notification-preferences", auth="required", body=PreferencesSchema, tag="notifications",
           summary="Turn email or inbox notifications on or off")
    def set_preferences(self, request):
        return self.notifications.set_preferences(actor_of(request), request.json_body)

    # --- webhooks for subscribers (government systems) ---------------------------------------

    @route("POST", "/v1/webhooks", auth="required", roles=("subscriber", "admin"), body=WebhookSchema,
           status=201, tag="webhooks", summary="Register a webhook; its secret is shown once")
    def create_webhook(self, request):
        webhook = self.notifications.create_webhook(actor_of(request), request.json_body)
        return created(webhook, f"/v1/webhooks/{webhook['id']}")

    @route("GET", "/v1/webhooks", auth="required", roles=("subscriber", "admin"), tag="webhooks",
           summary="My webhooks")
    def list_webhooks(self, request):
        return self.notifications.list_webhooks(actor_of(request))

    @route("GET", "/v1/webhooks/<string:webhook_id>", auth="required", roles=("subscriber", "admin"),
           tag="webhooks", summary="A webhook")
    def get_webhook(self, request, webhook_id):
        return self.notifications.get_webhook(actor_of(request), webhook_id)

    @route("DELETE", "/v1/webhooks/<string:webhook_id>", auth="required", roles=("subscriber", "admin"),
           tag="webhooks", summary="Delete a webhook", status=204)
    def delete_webhook(self, request, webhook_id):
        self.notifications.delete_webhook(actor_of(request), webhook_id)
        return 204, None

    @route("POST", "/v1/webhooks/<string:webhook_id>/rotate-secret", auth="required",
           roles=("subscriber", "admin"), tag="webhooks", summary="Rotate a webhook's signing secret")
    def rotate_webhook_secret(self, request, webhook_id):
        return self.notifications.rotate_secret(actor_of(request), webhook_id)

    @route("POST", "/v1/webhooks/<string:webhook_id>/enable", auth="required",
           roles=("subscriber", "admin"), tag="webhooks", summary="Re-enable a webhook disabled after failures")
    def enable_webhook(self, request, webhook_id):
        return self.notifications.enable_webhook(actor_of(request), webhook_id)

    @route("GET", "/v1/webhooks/<string:webhook_id>/deliveries", auth="required",
           roles=("subscriber", "admin"), tag="webhooks", summary="A webhook's delivery log")
    def webhook_deliveries(self, request, webhook_id):
        return self.notifications.list_deliveries(actor_of(request), webhook_id, **page_args(request))
