"""The talent service: Nameko entrypoints only. Each validates, applies the rules of
:mod:`talent.domain` inside one unit of work (rows + outbox events), and returns.

Lock order, so concurrent workers never deadlock: a program's row first, then rows of its
applications. Every state change re-reads the row under its lock and is conditional on the
state it expects, so several instances (and the expiry timer in each) can run side by side.
"""
import json
import logging
import uuid
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from demeu_common.clock import Clock, as_utc, isoformat
from demeu_common.db import Database
# `@rpc()` with parentheses: a bare `@rpc` reaches nameko's decorator without its keyword
# arguments, so domain refusals would not be treated (and logged) as expected outcomes.
from demeu_common.entrypoints import event_handler, rpc, sweep
from demeu_common.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from demeu_common import health  # the module, so `nameko run talent.service` finds one class
from demeu_common.inbox import Inbox
from demeu_common.outbox import Outbox
from demeu_common.reference import REGION_CODES
from demeu_common.schemas import load
from demeu_common.logs import RequestContext
from demeu_common.ids import is_uuid
from demeu_common.pagination import checked_limit, keyset_query, keyset_result

from talent import events
from talent.dependencies import Secrets
from talent.domain import age as age_rules, certificates, funding, offers, selection
from talent.domain.access import Actor, ensure_mentor, ensure_runs, ensure_signed_in
from talent.domain.iin import InvalidIin, validate_iin
from talent.models import (
    Application, Base, Certificate, OutboxRecord, ProcessedEvent, Program, Score,
    ScholarshipCampaign, Talent,
)
from talent.schemas import (
    ApplySchema, CreateProfileSchema, CreateProgramSchema, ProgramFiltersSchema, ScoreSchema,
    application_view, blind_application_view, profile_view, program_view, score_view,
)

log = logging.getLogger(__name__)

OPEN, SELECTING, CLOSED = "open", "selecting", "closed"
SUBMITTED, OFFERED, WAITLISTED, ENROLLED, DECLINED, EXPIRED, COMPLETED = (
    "submitted", "offered", "waitlisted", "enrolled", "declined", "expired", "completed",
)
SWEEP_BATCH = 100


class TalentService(health.HealthRpc):
    name = "talent"
    request_context = RequestContext()  # request ids in log lines

    db = Database(Base)
    outbox = Outbox(OutboxRecord)
    inbox = Inbox(ProcessedEvent)
    clock = Clock()
    vault = Secrets()

    # --- profiles -------------------------------------------------------------------------

    @rpc()
    def create_profile(self, actor, body):
        actor = Actor.from_wire(actor)
        ensure_signed_in(actor)
        data = load(CreateProfileSchema, body)
        now = self.clock.now()
        age = age_rules.age_on(data["birth_date"], now)
        age_rules.ensure_may_register(age, data["guardian_consent"] is not None)
        if data["iin"] is not None:
            try:
                validate_iin(data["iin"], data["birth_date"])
            except InvalidIin as invalid:
                raise ValidationFailed("The IIN is not valid.", code="invalid_iin",
                                       errors={"iin": [str(invalid)]}) from None
        consent = data["guardian_consent"]
        if consent is not None:
            consent = {**consent, "consented_at": isoformat(consent["consented_at"])}
        talent = Talent(
            id=str(uuid.uuid4()), user_id=actor.user_id, display_name=data["display_name"],
            region=data["region"], fields=json.dumps(sorted(set(data["fields"]))),
            bio=data["bio"], created_at=now,
            birth_date_encrypted=self.vault.encrypt(data["birth_date"].isoformat()),
            iin_encrypted=self.vault.encrypt(data["iin"]),
            guardian_consent_encrypted=self.vault.encrypt(consent),
        )
        band = age_rules.age_band(age)
        try:
            with self.db.get_session() as session:
                if session.scalar(select(Talent.id).where(Talent.user_id == actor.user_id)):
                    raise Conflict("You already have a talent profile.", code="profile_exists")
                session.add(talent)
                session.flush()
                self.outbox.record(session, events.TALENT_REGISTERED,
                                   events.talent_payload(talent, band), subject=talent.id)
        except IntegrityError:
            raise Conflict("You already have a talent profile.", code="profile_exists")
        return self._profile(talent, actor)

    @rpc()
    def get_profile(self, actor, talent_id):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            talent = _get(session, Talent, talent_id)
            if talent is None:
                raise NotFound("No such talent.", code="talent_not_found")
            return self._profile(talent, actor)

    @rpc()
    def get_my_profile(self, actor):
        actor = Actor.from_wire(actor)
        ensure_signed_in(actor)
        with self.db.get_session() as session:
            talent = _talent_of(session, actor)
            if talent is None:
                raise NotFound("You have no talent profile yet.", code="talent_not_found")
            return self._profile(talent, actor)

    # --- programs -------------------------------------------------------------------------

    @rpc()
    def create_program(self, actor, body):
        actor = Actor.from_wire(actor)
        ensure_mentor(actor)
        data = load(CreateProgramSchema, body)
        now = self.clock.now()
        program = Program(id=str(uuid.uuid4()), mentor_id=actor.user_id, status=OPEN,
                          enrolled_count=0, created_at=now, **data)
        with self.db.get_session() as session:
            session.add(program)
            self.outbox.record(session, events.PROGRAM_CREATED, events.program_payload(program),
                               subject=program.id)
            return self._program(session, program)

    @rpc()
    def get_program(self, actor, program_id):
        with self.db.get_session() as session:
            return self._program(session, _program_or_404(session, program_id))

    @rpc()
    def list_programs(self, actor, filters=None, limit=20, cursor=None):
        given = {k: v for k, v in (filters or {}).items() if v not in (None, "")} if isinstance(filters, dict) else filters
        filters = load(ProgramFiltersSchema, given)
        query = select(Program)
        for key in ("status", "field", "kind", "mentor_id"):
            if filters.get(key):
                query = query.where(getattr(Program, key) == filters[key])
        limit = checked_limit(limit)
        query = keyset_query(query, Program.created_at, Program.id, cursor, limit)
        with self.db.get_session() as session:
            rows = session.scalars(query).all()
            return keyset_result(rows, limit, lambda p: self._program(session, p))

    # --- applications ---------------------------------------------------------------------

    @rpc()
    def apply(self, actor, program_id, body):
        actor = Actor.from_wire(actor)
        ensure_signed_in(actor)
        data = load(ApplySchema, body)
        now = self.clock.now()
        try:
            with self.db.get_session() as session:
                program = _program_or_404(session, program_id)
                talent = _talent_of(session, actor)
                if talent is None:
                    raise Forbidden("Create a talent profile before applying.", code="profile_required")
                if program.status != OPEN or as_utc(program.application_deadline) <= now:
                    raise Conflict("This program no longer takes applications.", code="applications_closed")
                age = age_rules.age_on(self._birth_date(talent), now)
                if not age_rules.is_eligible(age, program.min_age, program.max_age):
                    raise ValidationFailed(
                        "Your age is outside this program's range.", code="not_eligible",
                        errors={"program_id": ["Age outside the program's range."]},
                    )
                if session.scalar(select(Application.id).where(
                        Application.program_id == program.id, Application.talent_id == talent.id)):
                    raise Conflict("You have already applied to this program.", code="already_applied")
                application = Application(
                    id=str(uuid.uuid4()), program_id=program.id, talent_id=talent.id,
                    talent_user_id=talent.user_id, region=talent.region,
                    motivation=data["motivation"], portfolio_urls=json.dumps(data["portfolio_urls"]),
                    status=SUBMITTED, created_at=now,
                )
                session.add(application)
                session.flush()
                self.outbox.record(session, events.APPLICATION_SUBMITTED,
                                   events.application_payload(application, program),
                                   subject=application.id)
                return application_view(application, program.title)
        except IntegrityError:
            raise Conflict("You have already applied to this program.", code="already_applied")

    @rpc()
    def score(self, actor, application_id, body):
        actor = Actor.from_wire(actor)
        data = load(ScoreSchema, body)
        now = self.clock.now()
        with self.db.get_session() as session:
            application = _get(session, Application, application_id)
            if application is None:
                raise NotFound("No such application.", code="application_not_found")
            program = session.get(Program, application.program_id)
            if not actor.runs(program.mentor_id):
                raise NotFound("No such application.", code="application_not_found")
            if program.status != OPEN or application.status != SUBMITTED:
                raise Conflict("Scores are final once the program has selected.", code="scoring_closed")
            existing = session.get(Score, (application.id, actor.user_id))
            if existing is None:
                existing = Score(application_id=application.id, mentor_id=actor.user_id)
                session.add(existing)
            existing.score, existing.comment, existing.scored_at = data["score"], data["comment"], now
            session.flush()
            return score_view(existing)

    @rpc()
    def list_program_applications(self, actor, program_id, limit=20, cursor=None):
        actor = Actor.from_wire(actor)
        with self.db.get_session() as session:
            program = _program_or_404(session, program_id)
            ensure_runs(actor, program.mentor_id)
            limit = checked_limit(limit)
            query = keyset_query(select(Application).where(Application.program_id == program.id),
                                 Application.created_at, Application.id, cursor, limit, newest_first=False)
            rows = session.scalars(query).all()
            stats = _score_stats(session, [a.id for a in rows[:limit]], actor.user_id)
            if actor.is_admin:
                talents = {t.id: t for t in session.scalars(
                    select(Talent).where(Talent.id.in_([a.talent_id for a in rows[:limit]])))}

                def view(a):
                    talent = talents[a.talent_id]
                    return {**application_view(a, program.title), **stats.get(a.id, {}),
                            "talent_user_id": a.talent_user_id,
                            "display_name": talent.display_name, "region": a.region,
                            "age_band": self._age_band(talent)}
            else:
                def view(a):  # blind review: the work, not the person
                    return blind_application_view(a, **stats.get(a.id, {}))
            return keyset_result(rows, limit, view)

    @rpc()
    def list_my_applications(self, actor, limit=20, cursor=None):
        actor = Actor.from_wire(actor)
        ensure_signed_in(actor)
        limit = checked_limit(limit)
        query = keyset_query(select(Application).where(Application.talent_user_id == actor.user_id),
                             Application.created_at, Application.id, cursor, limit)
        with self.db.get_session() as session:
            rows = session.scalars(query).all()
            titles = dict(session.execute(select(Program.id, Program.title).where(
                Program.id.in_({a.program_id for a in rows[:limit]}))).all())
            return keyset_result(rows, limit, lambda a: application_view(a, titles.get(a.program_id)))

    # --- selection, offers, enrolment -------------------------------------------------------

    @rpc()
    def select(self, actor, program_id):
        actor = Actor.from_wire(actor)
        now = self.clock.now()
        with self.db.get_session() as session:
            program = _lock(session, Program, program_id)
            if program is None:
                raise NotFound("No such program.", code="program_not_found")
            ensure_runs(actor, program.mentor_id)
            if program.status != OPEN:
                raise InvalidTransition("Selection has already been made for this program.")
            applications = session.scalars(
                select(Application).where(Application.program_id == program.id,
                                          Application.status == SUBMITTED)
            ).all()
            scores = {}
            for application_id, value in session.execute(
                    select(Score.application_id, Score.score).join(Application)
                    .where(Application.program_id == program.id)):
                scores.setdefault(application_id, []).append(value)
            candidates = [
                selection.Candidate(a.id, a.region, as_utc(a.created_at), tuple(scores.get(a.id, ())))
                for a in applications
            ]
            outcome = selection.select(candidates, program.seats, program.regional_quota)
            by_id = {a.id: a for a in applications}
            for position, application_id in enumerate(outcome.ranking, start=1):
                by_id[application_id].rank = position
            for application_id in outcome.offered:
                self._offer(session, by_id[application_id], program, now)
            for position, application_id in enumerate(outcome.waitlisted, start=1):
                application = by_id[application_id]
                application.status, application.waitlist_position = WAITLISTED, position
                self.outbox.record(session, events.APPLICATION_WAITLISTED,
                                   events.application_payload(application, program),
                                   subject=application.id)
            program.status = SELECTING
            self.outbox.record(session, events.PROGRAM_SELECTED, {
                **events.program_payload(program),
                "offered_count": len(outcome.offered), "waitlist_count": len(outcome.waitlisted),
            }, subject=program.id)
            session.flush()
            return self._program(session, program)

    @rpc()
    def accept(self, actor, application_id):
        actor = Actor.from_wire(actor)
        now = self.clock.now()
        with self.db.get_session() as session:
            program, application = self._own_application(session, actor, application_id)
            if application.status == ENROLLED:
                return application_view(application, program.title)  # a retry: nothing to do
            if application.status != OFFERED or offers.is_expired(as_utc(application.offer_expires_at), now):
                raise Conflict("There is no open offer to accept.", code="offer_not_open")
            # One conditional UPDATE: concurrent accepts can never enrol more than the seats.
            taken = session.execute(
                update(Program).where(Program.id == program.id, Program.enrolled_count < Program.seats)
                .values(enrolled_count=Program.enrolled_count + 1)
            ).rowcount
            if not taken:
                raise Conflict("Every seat of this program is taken.", code="program_full")
            session.refresh(program)  # the locked row, updated by the statement above
            application.status, application.decided_at = ENROLLED, now
            if program.enrolled_count >= program.seats:
                program.status = CLOSED
            self.outbox.record(session, events.APPLICATION_ENROLLED,
                               events.application_payload(application, program), subject=application.id)
            return application_view(application, program.title)

    @rpc()
    def decline(self, actor, application_id):
        actor = Actor.from_wire(actor)
        now = self.clock.now()
        with self.db.get_session() as session:
            program, application = self._own_application(session, actor, application_id)
            if application.status == DECLINED:
                return application_view(application, program.title)
            if application.status not in (OFFERED, WAITLISTED, SUBMITTED):
                raise Conflict(f"A {application.status} application cannot be declined.",
                               code="invalid_transition")
            application.status, application.decided_at = DECLINED, now
            application.waitlist_position = None
            self.outbox.record(session, events.APPLICATION_DECLINED,
                               events.application_payload(application, program), subject=application.id)
            self._fill_free_seats(session, program, now)
            return application_view(application, program.title)

    @sweep("OFFER_SWEEP_INTERVAL", 30)
    def expire_offers(self):
        """Lapse offers past ``offer_expires_at`` and promote the waitlist. Safe with several
        instances: each takes rows the others have not locked, and every change is
        conditional on the state it expects."""
        while self.sweep_expired_offers() == SWEEP_BATCH:
            pass

    def sweep_expired_offers(self):
        now = self.clock.now()
        with self.db.get_session() as session:
            due = session.execute(
                select(Application.program_id, Application.id)
                .where(Application.status == OFFERED, Application.offer_expires_at <= now)
                .order_by(Application.offer_expires_at).limit(SWEEP_BATCH)
            ).all()
            by_program = {}
            for program_id, application_id in due:
                by_program.setdefault(program_id, []).append(application_id)
            expired = 0
            for program_id in sorted(by_program):  # one order for every sweeper
                program = _lock(session, Program, program_id)
                lapsed = session.scalars(
                    select(Application)
                    .where(Application.id.in_(by_program[program_id]), Application.status == OFFERED,
                           Application.offer_expires_at <= now)
                    .with_for_update().execution_options(populate_existing=True)
                ).all()  # another sweeper may have lapsed them while we waited for the lock
                for application in lapsed:
                    application.status, application.decided_at = EXPIRED, now
                    self.outbox.record(session, events.APPLICATION_EXPIRED,
                                       events.application_payload(application, program),
                                       subject=application.id)
                session.flush()
                self._fill_free_seats(session, program, now)
                expired += len(lapsed)
            if expired:
                log.info("expired %d offer(s)", expired)
            return len(due)

    # --- completion and certificates --------------------------------------------------------

    @rpc()
    def complete(self, actor, application_id):
        actor = Actor.from_wire(actor)
        now = self.clock.now()
        with self.db.get_session() as session:
            application = _get(session, Application, application_id)
            if application is None:
                raise NotFound("No such application.", code="application_not_found")
            program, application = _lock_with_program(session, application)
            if not actor.runs(program.mentor_id):
                raise NotFound("No such application.", code="application_not_found")
            if application.status == COMPLETED:
                certificate = session.scalars(
                    select(Certificate).where(Certificate.application_id == application.id)).one()
                return self._certificate(certificate)
            if application.status != ENROLLED:
                raise Conflict("Only enrolled talents can complete a program.", code="invalid_transition")
            talent = session.get(Talent, application.talent_id)
            content = {
                "certificate_id": str(uuid.uuid4()), "talent_id": talent.id,
                "display_name": talent.display_name, "program_id": program.id,
                "program_title": program.title, "program_kind": program.kind,
                "program_field": program.field, "mentor_id": program.mentor_id,
                "issued_at": isoformat(now),
            }
            certificate = Certificate(
                id=content["certificate_id"], application_id=application.id, talent_id=talent.id,
                content=certificates.canonical(content).decode(), signature=self.vault.sign(content),
                issued_at=now,
            )
            session.add(certificate)
            application.status, application.decided_at = COMPLETED, now
            self.outbox.record(session, events.APPLICATION_COMPLETED,
                               events.application_payload(application, program,
                                                          certificate_id=certificate.id),
                               subject=application.id)
            return self._certificate(certificate)

    @rpc()
    def get_certificate(self, certificate_id):
        with self.db.get_session() as session:
            certificate = _get(session, Certificate, certificate_id)
            if certificate is None:
                raise NotFound("No such certificate.", code="certificate_not_found")
            return self._certificate(certificate)

    # --- analytics --------------------------------------------------------------------------

    @rpc()
    def region_stats(self):
        """Every region of the contract, zeros included, for the analytics page."""
        stats = {region: {"talents": 0, "applications": 0, "enrolled": 0} for region in REGION_CODES}

        def bump(region, key, n):
            stats.setdefault(region, {"talents": 0, "applications": 0, "enrolled": 0})[key] = n

        with self.db.get_session() as session:
            for region, n in session.execute(select(Talent.region, func.count()).group_by(Talent.region)):
                bump(region, "talents", n)
            for region, n in session.execute(
                    select(Application.region, func.count()).group_by(Application.region)):
                bump(region, "applications", n)
            for region, n in session.execute(
                    select(Application.region, func.count())
                    .where(Application.status.in_((ENROLLED, COMPLETED))).group_by(Application.region)):
                bump(region, "enrolled", n)
        return stats

    # --- scholarships: a projection of campaigns and payments events -----------------------

    @event_handler("campaigns", "campaign.submitted")
    def on_campaign_submitted(self, event):
        self._project_campaign(event)

    @event_handler("campaigns", "campaign.approved")
    def on_campaign_approved(self, event):
        self._project_campaign(event)

    @event_handler("campaigns", "campaign.rejected")
    def on_campaign_rejected(self, event):
        self._project_campaign(event)

    @event_handler("campaigns", "campaign.succeeded")
    def on_campaign_succeeded(self, event):
        self._project_campaign(event)

    @event_handler("campaigns", "campaign.failed")
    def on_campaign_failed(self, event):
        self._project_campaign(event)

    @event_handler("payments", "donation.succeeded")
    def on_donation_succeeded(self, event):
        self._project_donation(event, +int(event["data"].get("amount") or 0))

    @event_handler("payments", "donation.refunded")
    def on_donation_refunded(self, event):
        data = event["data"]
        self._project_donation(event, -int(data.get("refund_amount") or data.get("amount") or 0))

    def _project_donation(self, event, delta):
        data = event["data"]
        if data.get("category") not in (None, "education"):
            return  # only education campaigns fund seats
        with self.db.get_session() as session:
            if not self.inbox.claim(session, event):
                return
            row = _scholarship_row(session, data.get("campaign_id"))
            if row is not None:
                row.donated_amount = max(row.donated_amount + delta, 0)

    def _project_campaign(self, event):
        data = event["data"]
        if data.get("category") not in (None, "education"):
            return
        with self.db.get_session() as session:
            if not self.inbox.claim(session, event):
                return
            row = _scholarship_row(session, data.get("campaign_id"))
            if row is None:
                return
            if data.get("program_id"):
                row.program_id = str(data["program_id"])
            if data.get("seat_cost_amount"):
                row.seat_cost_amount = int(data["seat_cost_amount"])
            row.status = data.get("status") or row.status
            # Events may arrive out of order; a raised amount only grows (refunds aside).
            row.snapshot_raised_amount = max(row.snapshot_raised_amount, int(data.get("raised_amount") or 0))

    # --- helpers --------------------------------------------------------------------------

    def _offer(self, session, application, program, now):
        application.status = OFFERED
        application.waitlist_position = None
        application.offered_at = now
        application.offer_expires_at = offers.expires_at(now, program.offer_hours)
        self.outbox.record(session, events.APPLICATION_OFFERED,
                           events.application_payload(application, program), subject=application.id)

    def _fill_free_seats(self, session, program, now):
        """Offer freed seats to the first waitlisted, whatever their region. The caller holds
        the program's row lock, so two promotions never offer the same seat."""
        if program.status == OPEN:
            return
        offered = session.scalar(select(func.count()).select_from(Application).where(
            Application.program_id == program.id, Application.status == OFFERED))
        free = selection.seats_to_fill(program.seats, program.enrolled_count, offered)
        if not free:
            return
        for application in session.scalars(
                select(Application).where(Application.program_id == program.id,
                                          Application.status == WAITLISTED)
                .order_by(Application.waitlist_position).limit(free)
                .with_for_update().execution_options(populate_existing=True)):
            self._offer(session, application, program, now)

    def _own_application(self, session, actor, application_id):
        """The caller's application and its program, both locked (program first)."""
        ensure_signed_in(actor)
        application = _get(session, Application, application_id)
        if application is None or application.talent_user_id != actor.user_id:
            raise NotFound("No such application.", code="application_not_found")
        return _lock_with_program(session, application)

    def _birth_date(self, talent):
        return date.fromisoformat(self.vault.decrypt(talent.birth_date_encrypted))

    def _age_band(self, talent):
        return age_rules.age_band(age_rules.age_on(self._birth_date(talent), self.clock.now()))

    def _profile(self, talent, actor):
        private = None
        if actor.is_admin or (actor.user_id is not None and actor.user_id == talent.user_id):
            private = {
                "birth_date": self.vault.decrypt(talent.birth_date_encrypted),
                "iin": self.vault.decrypt(talent.iin_encrypted),
                "guardian_consent": self.vault.decrypt(talent.guardian_consent_encrypted),
            }
        return profile_view(talent, self._age_band(talent), private)

    def _program(self, session, program):
        counts = dict(session.execute(
            select(Application.status, func.count()).where(Application.program_id == program.id)
            .group_by(Application.status)).all())
        campaigns = [
            (funding.raised(snapshot, donated), seat_cost, status)
            for snapshot, donated, seat_cost, status in session.execute(
                select(ScholarshipCampaign.snapshot_raised_amount, ScholarshipCampaign.donated_amount,
                       ScholarshipCampaign.seat_cost_amount, ScholarshipCampaign.status)
                .where(ScholarshipCampaign.program_id == program.id))
        ]
        return program_view(
            program, waitlist_count=counts.get(WAITLISTED, 0), offered_count=counts.get(OFFERED, 0),
            funded_seats=funding.funded_seats(campaigns),
        )

    def _certificate(self, certificate):
        content = json.loads(certificate.content)
        return {
            **content,
            "id": certificate.id,
            "signature": {"algorithm": certificates.ALGORITHM, "value": certificate.signature,
                          "public_key": self.vault.public_key,
                          "signed_content": certificate.content},
            "valid": self.vault.verify(content, certificate.signature),
        }


def _get(session, model, object_id):
    return session.get(model, str(object_id)) if is_uuid(object_id) else None


def _lock(session, model, object_id):
    """The row, locked for this transaction and re-read (not the session's cached copy)."""
    if not is_uuid(object_id):
        return None
    return session.scalars(
        select(model).where(model.id == str(object_id)).with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _lock_with_program(session, application):
    program = _lock(session, Program, application.program_id)
    return program, _lock(session, Application, application.id)


def _program_or_404(session, program_id):
    program = _get(session, Program, program_id)
    if program is None:
        raise NotFound("No such program.", code="program_not_found")
    return program


def _talent_of(session, actor):
    if not actor.user_id:
        return None
    return session.scalars(select(Talent).where(Talent.user_id == actor.user_id)).one_or_none()


def _score_stats(session, application_ids, mentor_id):
    stats = {}
    for score in session.scalars(select(Score).where(Score.application_id.in_(application_ids))):
        entry = stats.setdefault(score.application_id, {"values": [], "my_score": None})
        entry["values"].append(score.score)
        if score.mentor_id == mentor_id:
            entry["my_score"] = score.score
    return {
        application_id: {"my_score": e["my_score"], "scores_count": len(e["values"]),
                         "mean_score": round(sum(e["values"]) / len(e["values"]), 2)}
        for application_id, e in stats.items()
    }


def _scholarship_row(session, campaign_id):
    """The projection row of a campaign, created on first sight, locked for the update."""
    if not is_uuid(campaign_id):
        return None
    campaign_id = str(campaign_id)
    row = session.scalars(select(ScholarshipCampaign).where(
        ScholarshipCampaign.campaign_id == campaign_id).with_for_update()).one_or_none()
    if row is None:
        # A concurrent first sighting makes this insert fail; the handler then retries the
        # event (its inbox claim rolled back too) and finds the row.
        row = ScholarshipCampaign(campaign_id=campaign_id, snapshot_raised_amount=0, donated_amount=0)
        session.add(row)
        session.flush()
    return row
