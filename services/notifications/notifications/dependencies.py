"""Background senders: the email relay and the webhook deliverer.

Both read a persistent queue table that the event handlers write in the same transaction as
the notification, so an event handler never waits on SMTP or on a subscriber, and nothing is
lost when either is down: a row stays pending until it is sent or its retry window closes.
Rows are leased (their ``next_attempt_at`` pushed forward) before the network is touched, so
several instances never send one row at the same time, and one that crashed mid-send is
picked up again when the lease runs out.
"""
import logging
import smtplib
import time
from collections import Counter
from datetime import timedelta
from email.message import EmailMessage

import eventlet
import requests
from eventlet.greenpool import GreenPool
from eventlet.queue import Empty, LightQueue
from nameko.extensions import DependencyProvider
from sqlalchemy import event, select, update
from sqlalchemy.orm import sessionmaker

from demeu_common.clock import as_utc, utcnow
from demeu_common.config import database_url
from demeu_common.db import is_postgres, make_engine

from notifications.domain import retries, signing
from notifications.models import PendingEmail, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)


class _Handle:
    def __init__(self, provider):
        self._provider = provider

    @property
    def enabled(self):
        return self._provider.enabled

    def wake_after_commit(self, session):
        event.listen(session, "after_commit", self._provider.wake, once=True)


class _Relay(DependencyProvider):
    """A loop in a managed thread that works through due rows, woken early after commits."""

    poll_interval = 1.0
    name = "relay"

    def setup(self):
        config = self.container.config
        self.configure(config)
        url = database_url(self.container.service_name, config.get("DATABASE_URL"))
        pool = {"pool_size": 3, "max_overflow": 2} if url.startswith("postgresql") else {}
        self.engine = make_engine(url, **pool)
        self.Session = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._wakeups = LightQueue()
        self._running = False
        self._thread = None

    def configure(self, config):
        self.enabled = True

    def start(self):
        if not self.enabled:
            return
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._loop)

    def stop(self):
        self._running = False
        self.wake()
        if self._thread is not None:
            self._thread.wait()
        self.engine.dispose()

    def kill(self):
        self._running = False
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        return _Handle(self)

    def wake(self, *_):
        if self._wakeups.qsize() == 0:
            self._wakeups.put_nowait(True)

    def _loop(self):
        while self._running:
            try:
                busy = self.run_once()
            except Exception:  # database away: keep the rows, try again later
                log.warning("%s of %s failed; retrying", self.name, self.container.service_name,
                            exc_info=True)
                busy = False
            if busy:
                eventlet.sleep(0)
                continue
            try:
                self._wakeups.get(timeout=self.poll_interval)
            except Empty:
                pass

    def _lease_due(self, query, model, limit):
        """Take up to ``limit`` due rows of ``query`` and push their next attempt past the lease."""
        now = utcnow()
        with self.Session() as session:
            query = query.limit(limit)
            if is_postgres(session.get_bind()):
                query = query.with_for_update(skip_locked=True, of=model)
            rows = session.execute(query).all()
            if rows:
                ids = [row[0].id for row in rows]
                session.execute(update(model).where(model.id.in_(ids)).values(next_attempt_at=now + LEASE))
            session.commit()
            return rows

    def run_once(self):
        raise NotImplementedError


class EmailRelay(_Relay):
    """Sends pending emails over SMTP (``SMTP_HOST``/``SMTP_PORT``); off when no host."""

    name = "email relay"
    batch_size = 50

    def configure(self, config):
        self.host = (config.get("SMTP_HOST") or "").strip()
        self.port = int(config.get("SMTP_PORT") or 25)
        self.sender = config.get("SMTP_FROM") or "Demeu <no-reply@demeu.kz>"
        self.timeout = float(config.get("SMTP_TIMEOUT_SECONDS") or 10)
        self.retry_base = float(config.get("EMAIL_RETRY_BASE_SECONDS") or 10)
        self.give_up = float(config.get("EMAIL_GIVE_UP_SECONDS") or 3 * 86400)
        self.enabled = bool(self.host)

    def run_once(self):
        query = (
            select(PendingEmail)
            .where(PendingEmail.status == "pending", PendingEmail.next_attempt_at <= utcnow())
            .order_by(PendingEmail.next_attempt_at, PendingEmail.id)
        )
        rows = [row[0] for row in self._lease_due(query, PendingEmail, self.batch_size)]
        if not rows:
            return False
        outcomes = {}
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                for email in rows:
                    try:
                        smtp.send_message(self._message(email))
                        outcomes[email.id] = None
                    except smtplib.SMTPException as error:
                        outcomes[email.id] = f"{type(error).__name__}: {error}"
        except (OSError, smtplib.SMTPException) as error:  # server away: the rest wait
            for email in rows:
                outcomes.setdefault(email.id, f"{type(error).__name__}: {error}")
        self._record(rows, outcomes)
        return len(rows) == self.batch_size

    def _message(self, email):
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message["Message-ID"] = f"<{email.source_event_id}.{email.type}.{email.recipient_id}@demeu.kz>"
        message.set_content(email.body)
        return message

    def _record(self, rows, outcomes):
        now = utcnow()
        with self.Session() as session:
            for email in rows:
                error = outcomes[email.id]
                if error is None:
                    values = {"status": "sent", "sent_at": now, "attempts": email.attempts + 1,
                              "last_error": None}
                else:
                    attempts = email.attempts + 1
                    when = retries.next_attempt(now, as_utc(email.created_at), attempts,
                                                self.retry_base, self.give_up)
                    values = {"attempts": attempts, "last_error": error[:1000]}
                    values.update({"next_attempt_at": when} if when else {"status": "failed"})
                    log.warning("email %s to %s failed (attempt %d): %s",
                                email.id, email.recipient_id, attempts, error)
                session.execute(update(PendingEmail).where(PendingEmail.id == email.id).values(**values))
            session.commit()


class WebhookDeliverer(_Relay):
    """POSTs pending deliveries, signed, from a bounded pool of greenthreads; at most a few
    in flight per webhook, so one slow or dead subscriber never holds up the others."""

    name = "webhook deliverer"

    def configure(self, config):
        self.concurrency = int(config.get("WEBHOOK_CONCURRENCY") or 20)
        self.per_webhook = int(config.get("WEBHOOK_PER_ENDPOINT") or 4)
        self.timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS") or 10)
        self.retry_base = float(config.get("WEBHOOK_RETRY_BASE_SECONDS") or 10)
        self.give_up = float(config.get("WEBHOOK_GIVE_UP_SECONDS") or 86400)
        self.disable_after = int(config.get("WEBHOOK_DISABLE_AFTER_FAILURES") or 50)
        self.disable_window = float(config.get("WEBHOOK_DISABLE_AFTER_SECONDS") or self.give_up)
        self.poll_interval = min(1.0, self.retry_base / 4)
        self.enabled = True

    def setup(self):
        super().setup()
        self.pool = GreenPool(self.concurrency)
        self.in_flight = Counter()
        self.http = requests.Session()

    def stop(self):
        super().stop()
        self.pool.waitall()

    def kill(self):
        super().kill()
        for thread in list(self.pool.coroutines_running):
            thread.kill()

    def run_once(self):
        free = self.pool.free()
        if free <= 0:
            eventlet.sleep(0.05)
            return False
        busy = [webhook_id for webhook_id, n in self.in_flight.items() if n >= self.per_webhook]
        query = (
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.status == "pending",
                   WebhookDelivery.next_attempt_at <= utcnow(),
                   Webhook.status == "active")
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        )
        if busy:
            query = query.where(WebhookDelivery.webhook_id.not_in(busy))
        taken = self._lease_due(query, WebhookDelivery, free)
        for delivery, url, secret in taken:
            self.in_flight[delivery.webhook_id] += 1
            self.pool.spawn_n(self._deliver, delivery, url, secret)
        return len(taken) == free

    def _deliver(self, delivery, url, secret):
        try:
            status_code, error = self.post(url, secret, delivery.body)
            self._record(delivery, status_code, error)
        except Exception:
            log.warning("recording webhook delivery %s failed", delivery.id, exc_info=True)
        finally:
            self.in_flight[delivery.webhook_id] -= 1
            if self.in_flight[delivery.webhook_id] <= 0:
                del self.in_flight[delivery.webhook_id]
            self.wake()

    def post(self, url, secret, body):
        raw = body.encode("utf-8")
        headers = {
            "Content-Type": "application/cloudevents+json; charset=utf-8",
            signing.HEADER: signing.signature_header(secret, int(time.time()), raw),
            "User-Agent": "Demeu-Webhooks/1",
        }
        try:
            response = self.http.post(url, data=raw, headers=headers, timeout=self.timeout,
                                      allow_redirects=False)
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"[:1000]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    def _record(self, delivery, status_code, error):
        now = utcnow()
        with self.Session() as session:
            webhook = session.scalars(
                select(Webhook).where(Webhook.id == delivery.webhook_id).with_for_update()
            ).one()
            attempts = delivery.attempts + 1
            values = {"attempts": attempts, "last_status_code": status_code, "last_error": error}
            if error is None:
                values.update(status="delivered", delivered_at=now)
                webhook.consecutive_failures = 0
                webhook.failing_since = None
            else:
                when = retries.next_attempt(now, as_utc(delivery.created_at), attempts,
                                            self.retry_base, self.give_up)
                values.update({"next_attempt_at": when} if when else {"status": "failed"})
                webhook.consecutive_failures += 1
                webhook.failing_since = webhook.failing_since or now
                if webhook.status == "active" and retries.should_disable(
                    webhook.consecutive_failures, as_utc(webhook.failing_since), now,
                    self.disable_after, self.disable_window,
                ):
                    webhook.status = "disabled"
                    log.warning("webhook %s disabled after %d consecutive failures",
                                webhook.id, webhook.consecutive_failures)
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id).values(**values))
            session.commit()
