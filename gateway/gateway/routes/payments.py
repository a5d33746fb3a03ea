from payments.schemas import DonationRequestSchema, RefundRequestSchema

from gateway.http import HttpProblem, route
from gateway.routes import actor_of, page_args
from gateway.routes.patronage import PatronageRoutes


class PaymentRoutes(PatronageRoutes):
    @route("POST", "/v1/campaigns/<string:campaign_id>/donations", auth="required", idempotent=True,
           body=DonationRequestSchema, status=201, tag="donations", summary="Donate to a live campaign")
    def donate(self, request, campaign_id):
        answer = self.payments.create_donation(actor_of(request), campaign_id, request.json_body,
                                               request.idempotency_key)
        headers = {"Location": f"/v1/donations/{answer['body']['id']}"} if answer["status"] == 201 else None
        return answer["status"], answer["body"], headers

    @route("POST", "/v1/donations/<string:donation_id>/refund", auth="required", roles=("admin",),
           idempotent=True, body=RefundRequestSchema, tag="donations",
           summary="Refund a donation, whole or in part (admin)")
    def refund(self, request, donation_id):
        answer = self.payments.refund_donation(actor_of(request), donation_id, request.json_body,
                                               request.idempotency_key)
        return answer["status"], answer["body"]

    @route("POST", "/v1/campaigns/<string:campaign_id>/payouts", auth="required", roles=("admin",),
           idempotent=True, tag="payouts", status=201,
           summary="Pay a succeeded campaign's escrow out to its owner, less the platform fee (admin)")
    def payout(self, request, campaign_id):
        answer = self.payments.create_payout(actor_of(request), campaign_id, request.idempotency_key)
        return answer["status"], answer["body"]

    @route("GET", "/v1/campaigns/<string:campaign_id>/donations", tag="donations",
           summary="A campaign's public donations (anonymous ones show no donor)")
    def campaign_donations(self, request, campaign_id):
        self.campaigns.get_campaign(actor_of(request), campaign_id)  # 404 unless visible
        return self.payments.list_campaign_donations(campaign_id, **page_args(request))

    @route("GET", "/v1/donations/<string:donation_id>", auth="required", tag="donations",
           summary="A donation (its donor, or an admin)")
    def get_donation(self, request, donation_id):
        return self.payments.get_donation(actor_of(request), donation_id)

    @route("GET", "/v1/me/donations", auth="required", tag="donations", summary="My donations")
    def my_donations(self, request):
        return self.payments.list_my_donations(actor_of(request), **page_args(request))

    @route("GET", "/v1/campaigns/<string:campaign_id>/ledger", tag="ledger",
           summary="A campaign's public hash-chained ledger, oldest first")
    def campaign_ledger(self, request, campaign_id):
        self.campaigns.get_campaign(actor_of(request), campaign_id)
        limit = page_args(request)["limit"] if request.args.get("limit") else 100
        return self.payments.campaign_ledger(campaign_id, limit, request.args.get("cursor") or None)

    @route("GET", "/v1/admin/ledger/check", auth="required", roles=("admin",), tag="ledger",
           summary="Prove the ledger balanced and every campaign total equal to its postings")
    def ledger_check(self, request):
        return self.payments.ledger_check()

    @route("POST", "/v1/payments/webhooks/sandbox", tag="payments", public=False,
           summary="The card provider's signed webhook")
    def provider_webhook(self, request):
        signature = request.headers.get("Provider-Signature", "")
        if not signature:
            raise HttpProblem(401, "invalid_signature", "Invalid signature", "The webhook is not signed.")
        return self.payments.handle_provider_webhook(request.get_data(as_text=True), signature)
