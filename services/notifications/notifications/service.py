"""The notifications service: Nameko entrypoints only. Event handlers turn each event, once,
into inbox items, queued emails and queued webhook deliveries in one unit of work; the
background senders in :mod:`notifications.dependencies` do the network part."""
import json
import logging
import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from demeu_common.clock import Clock
from demeu_common.cloudevents import is_cloudevent
from demeu_common.db import Database
from demeu_common.entrypoints import event_handler, rpc
from demeu_common.errors import Forbidden, NotFound, ValidationFailed
# Imported as a module, not a name: `nameko run notifications.service` treats every class
# with entrypoints at the module's top level as a service, and HealthRpc has no name.
from demeu_common import health
from demeu_common.ids import is_uuid
from demeu_common.inbox import Inbox
from demeu_common.pagination import checked_limit, keyset_query, keyset_result
from demeu_common.reference import LOCALES
from demeu_common.schemas import load
from demeu_common.logs import RequestContext

from notifications import eventlog
from notifications.dependencies import EmailRelay, WebhookDeliverer
from notifications.domain import signing
from notifications.domain.recipients import intents
from notifications.domain.render import DEFAULT_LOCALE, render
from notifications.events import EVENT_TYPES, SUBSCRIBED
from notifications.models import (
    Base, Contact, Notification, PendingEmail, Preference, ProcessedEvent, Webhook,
    WebhookDelivery,
)
from notifications.schemas import (
    PreferencesSchema, WebhookSchema, delivery_view, notification_view, preferences_view,
    webhook_view,
)

log = logging.getLogger(__name__)


def _subscribe_to_everything(method):
    """One handler for every event type the platform publishes (contract §8): each gets its
    own durable queue, and the inbox claim makes each event count once."""
    for source, types in SUBSCRIBED.items():
        for event_type in types:
            method = event_handler(source, event_type)(method)
    return method


class NotificationsService(health.HealthRpc):
    name = "notifications"
    request_context = RequestContext()  # request ids in log lines

    db = Database(Base)
    inbox = Inbox(ProcessedEvent)
    clock = Clock()
    email_relay = EmailRelay()
    deliverer = WebhookDeliverer()

    # --- contact directory ----------------------------------------------------------------

    @rpc
    def remember_contact(self, user_id, email=None, locale=None):
        """Called by the gateway for each token it sees: one upsert, a no-op write when
        nothing changed. A token without an email keeps the one already known."""
        if not user_id or not isinstance(user_id, str):
            raise ValidationFailed("user_id is required.", errors={"user_id": ["Required."]})
        locale = locale if locale in LOCALES else DEFAULT_LOCALE
        email = email.strip() if isinstance(email, str) and "@" in email else None
        with self.db.get_session() as session:
            existing = session.get(Contact, user_id)
            if existing is not None and existing.locale == locale and (
                email is None or existing.email == email
            ):
                return {"user_id": user_id, "email": existing.email, "locale": locale}
            insert = _dialect(session).insert(Contact).values(
                user_id=user_id, email=email, locale=locale, updated_at=self.clock.now(),
            )
            changes = {"locale": insert.excluded.locale, "updated_at": insert.excluded.updated_at}
            if email is not None:
                changes["email"] = insert.excluded.email
            session.execute(insert.on_conflict_do_update(index_elements=["user_id"], set_=changes))
            return {"user_id": user_id, "email": email or (existing.email if existing else None),
                    "locale": locale}

    # --- inbox ----------------------------------------------------------------------------

    @rpc
    def list_notifications(self, actor, limit=20, cursor=None):
        user_id = _user(actor)
        limit = checked_limit(limit)
        query = keyset_query(select(Notification).where(Notification.recipient_id == user_id),
                             Notification.created_at, Notification.id, cursor, limit)
        with self.db.get_session() as session:
            rows = session.scalars(query).all()
            locale = _locale_of(session, user_id)
            return keyset_result(rows, limit, lambda n: _view(n, locale))

    @rpc
    def mark_read(self, actor, notification_id):
        user_id = _user(actor)
        with self.db.get_session() as session:
            notification = session.get(Notification, notification_id) if is_uuid(notification_id) else None
            if notification is None or notification.recipient_id != user_id:
                raise NotFound("No such notification.", code="notification_not_found")
            if notification.read_at is None:
                notification.read_at = self.clock.now()
            return _view(notification, _locale_of(session, user_id))

    @rpc
    def get_preferences(self, actor):
        user_id = _user(actor)
        with self.db.get_session() as session:
            return preferences_view(session.get(Preference, user_id))

    @rpc
    def set_preferences(self, actor, body):
        user_id = _user(actor)
        data = load(PreferencesSchema, body)
        with self.db.get_session() as session:
            insert = _dialect(session).insert(Preference).values(
                user_id=user_id, email=data["email"], inbox=data["inbox"], updated_at=self.clock.now(),
            )
            session.execute(insert.on_conflict_do_update(
                index_elements=["user_id"],
                set_={"email": insert.excluded.email, "inbox": insert.excluded.inbox,
                      "updated_at": insert.excluded.updated_at},
            ))
        return {"email": data["email"], "inbox": data["inbox"]}

    # --- webhooks (role subscriber) -------------------------------------------------------

    @rpc
    def create_webhook(self, actor, body):
        user_id = _subscriber(actor)
        data = load(WebhookSchema, body)
        webhook = Webhook(
            id=str(uuid.uuid4()), owner_id=user_id, url=data["url"], secret=signing.new_secret(),
            event_types=json.dumps(sorted(set(data["event_types"]))), status="active",
            consecutive_failures=0, created_at=self.clock.now(),
        )
        with self.db.get_session() as session:
            session.add(webhook)
        return webhook_view(webhook, with_secret=True)

    @rpc
    def list_webhooks(self, actor):
        user_id = _subscriber(actor)
        with self.db.get_session() as session:
            rows = session.scalars(
                select(Webhook)
                .where(Webhook.owner_id == user_id, Webhook.deleted_at.is_(None))
                .order_by(Webhook.created_at, Webhook.id)
            ).all()
            return {"items": [webhook_view(w) for w in rows], "next_cursor": None}

    @rpc
    def get_webhook(self, actor, webhook_id):
        user_id = _subscriber(actor)
        with self.db.get_session() as session:
            return webhook_view(_own_webhook(session, user_id, webhook_id))

    @rpc
    def rotate_secret(self, actor, webhook_id):
        """A new secret signs every delivery from now on, retries of older events included."""
        user_id = _subscriber(actor)
        with self.db.get_session() as session:
            webhook = _own_webhook(session, user_id, webhook_id, for_update=True)
            webhook.secret = signing.new_secret()
            return webhook_view(webhook, with_secret=True)

    @rpc
    def enable_webhook(self, actor, webhook_id):
        """Re-activate an auto-disabled webhook; its pending deliveries resume."""
        user_id = _subscriber(actor)
        with self.db.get_session() as session:
            webhook = _own_webhook(session, user_id, webhook_id, for_update=True)
            webhook.status, webhook.consecutive_failures, webhook.failing_since = "active", 0, None
            self.deliverer.wake_after_commit(session)
            return webhook_view(webhook)

    @rpc
    def delete_webhook(self, actor, webhook_id):
        user_id = _subscriber(actor)
        with self.db.get_session() as session:
            webhook = _own_webhook(session, user_id, webhook_id, for_update=True)
            webhook.deleted_at = self.clock.now()
            webhook.status = "deleted"
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.webhook_id == webhook.id, WebhookDelivery.status == "pending")
                .values(status="cancelled")
            )
        return None

    @rpc
    def list_deliveries(self, actor, webhook_id, limit=20, cursor=None):
        user_id = _subscriber(actor)
        limit = checked_limit(limit)
        with self.db.get_session() as session:
            webhook = _own_webhook(session, user_id, webhook_id)
            query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
            if cursor:
                try:
                    query = query.where(WebhookDelivery.id < int(cursor))
                except ValueError:
                    raise _bad_cursor()
            rows = session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1)).all()
            items = [delivery_view(d) for d in rows[:limit]]
        next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
        return {"items": items, "next_cursor": next_cursor}

    # --- the event log (role subscriber) ---------------------------------------------------

    @rpc
    def replay_events(self, actor, cursor=None, types=None, limit=20):
        """The event log in recording order after ``cursor``: ``{"items": [CloudEvent…],
        "next_cursor"}``; ``next_cursor`` is never null (see :mod:`notifications.eventlog`)."""
        _subscriber(actor, "The event log is for the subscriber role.")
        wanted = eventlog.parse_types(types, EVENT_TYPES)
        limit = checked_limit(limit)
        with self.db.get_session() as session:
            return eventlog.replay(session, cursor, wanted, limit)

    # --- events ---------------------------------------------------------------------------

    @_subscribe_to_everything
    def on_event(self, event):
        if not is_cloudevent(event) or len(str(event["id"])) > 64:
            log.warning("ignoring a message that is not a Demeu CloudEvent: %.200r", event)
            return  # retrying would not help
        now = self.clock.now()
        with self.db.get_session() as session:
            if not self.inbox.claim(session, event):
                return
            emails = self._notify(session, event, now)
            deliveries = self._enqueue_deliveries(session, event, now)
            # Last: on PostgreSQL it takes the log's sequencing lock until commit.
            eventlog.record(session, event, now)
            if emails:
                self.email_relay.wake_after_commit(session)
            if deliveries:
                self.deliverer.wake_after_commit(session)

    def _notify(self, session, event, now):
        queued = 0
        for intent in intents(event):
            preference = session.get(Preference, intent.recipient_id)
            contact = session.get(Contact, intent.recipient_id)
            wants = preferences_view(preference)
            if wants["inbox"]:
                session.execute(_dialect(session).insert(Notification).values(
                    id=str(uuid.uuid4()), recipient_id=intent.recipient_id, type=intent.type,
                    source_event_id=event["id"], params=json.dumps(intent.params, ensure_ascii=False),
                    created_at=now,
                ).on_conflict_do_nothing())
            if wants["email"] and self.email_relay.enabled and contact is not None and contact.email:
                subject, body = render(intent.type, contact.locale, intent.params)
                session.execute(_dialect(session).insert(PendingEmail).values(
                    recipient_id=intent.recipient_id, type=intent.type, source_event_id=event["id"],
                    to_address=contact.email, subject=subject[:500], body=body, status="pending",
                    attempts=0, next_attempt_at=now, created_at=now,
                ).on_conflict_do_nothing())
                queued += 1
        return queued

    def _enqueue_deliveries(self, session, event, now):
        webhooks = session.scalars(select(Webhook).where(Webhook.status == "active")).all()
        matching = [w for w in webhooks if event["type"] in json.loads(w.event_types)]
        if not matching:
            return 0
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        for webhook in matching:
            session.execute(_dialect(session).insert(WebhookDelivery).values(
                webhook_id=webhook.id, event_id=event["id"], event_type=event["type"], body=body,
                status="pending", attempts=0, next_attempt_at=now, created_at=now,
            ).on_conflict_do_nothing())
        return len(matching)


# --- helpers ------------------------------------------------------------------------------

def _dialect(session):
    return postgresql if session.get_bind().dialect.name == "postgresql" else sqlite


def _user(actor):
    user_id = (actor or {}).get("user_id")
    if not user_id:
        raise Forbidden("Sign in to see notifications.", code="authentication_required", status=401)
    return user_id


def _subscriber(actor, refusal="Webhooks are for the subscriber role."):
    user_id = _user(actor)
    roles = set((actor or {}).get("roles") or ())
    if not roles & {"subscriber", "admin"}:
        raise Forbidden(refusal)
    return user_id


def _own_webhook(session, user_id, webhook_id, for_update=False):
    webhook = None
    if is_uuid(webhook_id):
        query = select(Webhook).where(Webhook.id == str(webhook_id))
        webhook = session.scalars(query.with_for_update() if for_update else query).one_or_none()
    if webhook is None or webhook.owner_id != user_id or webhook.deleted_at is not None:
        raise NotFound("No such webhook.", code="webhook_not_found")
    return webhook


def _locale_of(session, user_id):
    contact = session.get(Contact, user_id)
    return contact.locale if contact is not None else DEFAULT_LOCALE


def _view(notification, locale):
    title, body = render(notification.type, locale, json.loads(notification.params))
    return notification_view(notification, title, body)


def _bad_cursor():
    return ValidationFailed("The cursor is not valid.", code="invalid_cursor",
                            errors={"cursor": ["Not a cursor this API issued."]})
