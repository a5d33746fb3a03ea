from campaigns.schemas import CreateCampaignSchema, RejectSchema, UpdateCampaignSchema

from gateway.http import route
from gateway.routes import actor_of, created, page_args, query_args


class CampaignRoutes:
    @route("POST", "/v1/campaigns", auth="required", body=CreateCampaignSchema, status=201,
           tag="campaigns", summary="Create a campaign (a draft)")
    def create_campaign(self, request):
        campaign = self.campaigns.create_campaign(actor_of(request), request.json_body)
        return created(campaign, f"/v1/campaigns/{campaign['id']}")

    @route("GET", "/v1/campaigns", tag="campaigns", summary="List campaigns",
           query=["status", "category", "region", "q", "owner", "limit", "cursor"])
    def list_campaigns(self, request):
        filters = query_args(request, "status", "category", "region", "q", "owner")
        if filters.get("owner") == "me" and not request.actor["user_id"]:
            from gateway.http import HttpProblem

            raise HttpProblem(401, "unauthorized", "Unauthorized", "owner=me needs a bearer token.")
        return self.campaigns.list_campaigns(actor_of(request), filters, **page_args(request))

    @route("GET", "/v1/campaigns/<string:campaign_id>", tag="campaigns", summary="Get a campaign")
    def get_campaign(self, request, campaign_id):
        return self.campaigns.get_campaign(actor_of(request), campaign_id)

    @route("PATCH", "/v1/campaigns/<string:campaign_id>", auth="required", body=UpdateCampaignSchema,
           tag="campaigns", summary="Edit a draft (owner)")
    def update_campaign(self, request, campaign_id):
        return self.campaigns.update_campaign(actor_of(request), campaign_id, request.json_body)

    @route("POST", "/v1/campaigns/<string:campaign_id>/submit", auth="required", tag="campaigns",
           summary="Submit a draft for review (owner)")
    def submit_campaign(self, request, campaign_id):
        return self.campaigns.submit(actor_of(request), campaign_id)

    @route("POST", "/v1/campaigns/<string:campaign_id>/approve", auth="required",
           roles=("moderator", "admin"), tag="campaigns", summary="Approve: the campaign goes live")
    def approve_campaign(self, request, campaign_id):
        return self.campaigns.approve(actor_of(request), campaign_id)

    @route("POST", "/v1/campaigns/<string:campaign_id>/reject", auth="required",
           roles=("moderator", "admin"), body=RejectSchema, tag="campaigns", summary="Reject with a reason")
    def reject_campaign(self, request, campaign_id):
        return self.campaigns.reject(actor_of(request), campaign_id, request.json_body)

    @route("POST", "/v1/campaigns/<string:campaign_id>/close", auth="required", roles=("admin",),
           tag="campaigns", summary="End a live campaign now (admin)")
    def close_campaign(self, request, campaign_id):
        return self.campaigns.close(actor_of(request), campaign_id)

    @route("GET", "/v1/campaigns/<string:campaign_id>/moderation", auth="required", tag="campaigns",
           summary="Moderation history (owner, moderators, admins)")
    def moderation_history(self, request, campaign_id):
        return self.campaigns.moderation_history(actor_of(request), campaign_id)
