from talent.schemas import ApplySchema, CreateProfileSchema, CreateProgramSchema, ScoreSchema

from gateway.http import route
from gateway.routes import actor_of, created, page_args, query_args


class TalentRoutes:
    @route("POST", "/v1/talents", auth="required", body=CreateProfileSchema, status=201, tag="talent",
           summary="Create my talent profile")
    def create_talent(self, request):
        profile = self.talent.create_profile(actor_of(request), request.json_body)
        return created(profile, f"/v1/talents/{profile['id']}")

    @route("GET", "/v1/talents/<string:talent_id>", tag="talent",
           summary="A talent's profile (public view unless it is mine)")
    def get_talent(self, request, talent_id):
        return self.talent.get_profile(actor_of(request), talent_id)

    @route("GET", "/v1/me/talent", auth="required", tag="talent", summary="My talent profile")
    def my_talent(self, request):
        return self.talent.get_my_profile(actor_of(request))

    @route("POST", "/v1/programs", auth="required", roles=("mentor", "admin"), body=CreateProgramSchema,
           status=201, tag="talent", summary="Create a course or master class (mentor, admin)")
    def create_program(self, request):
        program = self.talent.create_program(actor_of(request), request.json_body)
        return created(program, f"/v1/programs/{program['id']}")

    @route("GET", "/v1/programs", tag="talent", summary="List programs", query=["field", "kind", "status", "limit", "cursor"])
    def list_programs(self, request):
        return self.talent.list_programs(actor_of(request), query_args(request, "field", "kind", "status"),
                                         **page_args(request))

    @route("GET", "/v1/programs/<string:program_id>", tag="talent", summary="A program, with funded seats")
    def get_program(self, request, program_id):
        return self.talent.get_program(actor_of(request), program_id)

    @route("POST", "/v1/programs/<string:program_id>/applications", auth="required", body=ApplySchema,
           status=201, tag="talent", summary="Apply to a program (a talent with a profile)")
    def apply(self, request, program_id):
        application = self.talent.apply(actor_of(request), program_id, request.json_body)
        return created(application, f"/v1/applications/{application['id']}")

    @route("GET", "/v1/programs/<string:program_id>/applications", auth="required", roles=("mentor", "admin"),
           tag="talent", summary="A program's applications (blind for mentors)")
    def program_applications(self, request, program_id):
        return self.talent.list_program_applications(actor_of(request), program_id, **page_args(request))

    @route("POST", "/v1/applications/<string:application_id>/scores", auth="required", roles=("mentor",),
           body=ScoreSchema, tag="talent", summary="Score an application 0–10 (the program's mentor)")
    def score(self, request, application_id):
        return self.talent.score(actor_of(request), application_id, request.json_body)

    @route("POST", "/v1/programs/<string:program_id>/select", auth="required", roles=("mentor", "admin"),
           tag="talent", summary="Rank, offer seats within the regional quota, waitlist the rest")
    def select(self, request, program_id):
        return self.talent.select(actor_of(request), program_id)

    @route("POST", "/v1/applications/<string:application_id>/accept", auth="required", tag="talent",
           summary="Accept an offer (the applicant)")
    def accept(self, request, application_id):
        return self.talent.accept(actor_of(request), application_id)

    @route("POST", "/v1/applications/<string:application_id>/decline", auth="required", tag="talent",
           summary="Decline an offer (the applicant)")
    def decline(self, request, application_id):
        return self.talent.decline(actor_of(request), application_id)

    @route("POST", "/v1/applications/<string:application_id>/complete", auth="required",
           roles=("mentor", "admin"), status=201, tag="talent",
           summary="Mark an enrolled talent as completed; issues a certificate")
    def complete(self, request, application_id):
        certificate = self.talent.complete(actor_of(request), application_id)
        return created(certificate, f"/v1/certificates/{certificate['id']}")

    @route("GET", "/v1/me/applications", auth="required", tag="talent", summary="My applications")
    def my_applications(self, request):
        return self.talent.list_my_applications(actor_of(request), **page_args(request))

    @route("GET", "/v1/certificates/<string:certificate_id>", tag="talent",
           summary="A certificate and its signature (public, verifiable)")
    def certificate(self, request, certificate_id):
        return self.talent.get_certificate(certificate_id)
