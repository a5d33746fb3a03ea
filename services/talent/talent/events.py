"""The events talent publishes (contract §8) and their payloads.

None carries an IIN, a birth date or guardian data; the outbox refuses any that tries
(:data:`demeu_common.cloudevents.PRIVATE_KEYS`). Application events carry the talent's
user id so notifications can reach them, but not their name, region or age.
"""
from demeu_common.clock import isoformat

TALENT_REGISTERED = "talent.registered"
PROGRAM_CREATED = "program.created"
PROGRAM_SELECTED = "program.selected"
APPLICATION_SUBMITTED = "application.submitted"
APPLICATION_OFFERED = "application.offered"
APPLICATION_WAITLISTED = "application.waitlisted"
APPLICATION_ENROLLED = "application.enrolled"
APPLICATION_DECLINED = "application.declined"
APPLICATION_EXPIRED = "application.expired"
APPLICATION_COMPLETED = "application.completed"


def talent_payload(talent, age_band):
    return {
        "talent_id": talent.id,
        "user_id": talent.user_id,
        "display_name": talent.display_name,
        "region": talent.region,
        "age_band": age_band,
    }


def program_payload(program):
    return {
        "program_id": program.id,
        "program_title": program.title,
        "mentor_id": program.mentor_id,
        "kind": program.kind,
        "field": program.field,
        "seats": program.seats,
        "regional_quota": program.regional_quota,
        "application_deadline": isoformat(program.application_deadline),
        "starts_at": isoformat(program.starts_at),
        "status": program.status,
    }


def application_payload(application, program, **extra):
    payload = {
        "application_id": application.id,
        "program_id": program.id,
        "program_title": program.title,
        "mentor_id": program.mentor_id,
        "talent_id": application.talent_id,
        "talent_user_id": application.talent_user_id,
        "status": application.status,
    }
    if application.status == "offered":
        payload["offer_expires_at"] = isoformat(application.offer_expires_at)
    if application.status == "waitlisted":
        payload["waitlist_position"] = application.waitlist_position
    payload.update(extra)
    return payload
