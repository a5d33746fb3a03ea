"""Patronage routes: matching pools (contract §5), monthly gifts and donation receipts.
Mixed into :class:`gateway.routes.payments.PaymentRoutes`, since payments answers all of them."""
import base64

from werkzeug.wrappers import Response

from payments.schemas import MatchingPoolRequestSchema, RecurringDonationRequestSchema

from gateway.http import route
from gateway.routes import actor_of, created, page_args

POOL_STATUSES = ("active", "exhausted", "expired")


class PatronageRoutes:
    @route("POST", "/v1/matching-pools", auth="required", idempotent=True, body=MatchingPoolRequestSchema,
           status=201, tag="patronage",
           summary="Open a matching pool; its budget is charged to the patron at once")
    def create_pool(self, request):
        answer = self.payments.create_pool(actor_of(request), request.json_body, request.idempotency_key)
        if answer["status"] == 201:
            return created(answer["body"], f"/v1/matching-pools/{answer['body']['id']}")
        return answer["status"], answer["body"]

    @route("GET", "/v1/matching-pools", tag="patronage", query=["status", "limit", "cursor"],
           summary="Matching pools, newest first (?status=active|exhausted|expired)")
    def list_pools(self, request):
        status = request.args.get("status") or None
        if status is not None and status not in POOL_STATUSES:
            from demeu_common.errors import ValidationFailed

            raise ValidationFailed("One or more query parameters are invalid.",
                                   errors={"status": [f"Must be one of: {', '.join(POOL_STATUSES)}."]})
        return self.payments.list_pools(status, **page_args(request))

    @route("GET", "/v1/matching-pools/<string:pool_id>", tag="patronage", summary="A matching pool")
    def get_pool(self, request, pool_id):
        return self.payments.get_pool(pool_id)

    @route("GET", "/v1/me/pools", auth="required", tag="patronage",
           summary="My matching pools, with what each matched per campaign and per region")
    def my_pools(self, request):
        return self.payments.list_my_pools(actor_of(request), **page_args(request))

    # --- monthly gifts ----------------------------------------------------------------------

    @route("POST", "/v1/campaigns/<string:campaign_id>/recurring-donations", auth="required", idempotent=True,
           body=RecurringDonationRequestSchema, status=201, tag="donations",
           summary="Give monthly: charged now, then every month while the campaign is live")
    def create_recurring(self, request, campaign_id):
        answer = self.payments.create_recurring(actor_of(request), campaign_id, request.json_body,
                                                request.idempotency_key)
        if answer["status"] == 201:
            return created(answer["body"], f"/v1/recurring-donations/{answer['body']['id']}")
        return answer["status"], answer["body"]

    @route("DELETE", "/v1/recurring-donations/<string:plan_id>", auth="required", tag="donations",
           summary="Stop a monthly gift (its donor, or an admin); nothing given is refunded")
    def cancel_recurring(self, request, plan_id):
        return self.payments.cancel_recurring(actor_of(request), plan_id)

    @route("GET", "/v1/me/recurring-donations", auth="required", tag="donations", summary="My monthly gifts")
    def my_recurring(self, request):
        return self.payments.list_my_recurring(actor_of(request), **page_args(request))

    # --- receipts ---------------------------------------------------------------------------

    @route("GET", "/v1/donations/<string:donation_id>/receipt", auth="required", tag="donations",
           summary="A donation's receipt with its chain proof (JSON, or PDF with Accept: application/pdf)")
    def donation_receipt(self, request, donation_id):
        wanted = request.accept_mimetypes.best_match(["application/json", "application/pdf"])
        if wanted != "application/pdf":
            return self.payments.donation_receipt(actor_of(request), donation_id)
        pdf = self.payments.donation_receipt(actor_of(request), donation_id, "pdf")
        return Response(base64.b64decode(pdf["data_base64"]), status=200, content_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{pdf["filename"]}"'})
