"""Per-department AMQP subscriptions: a broker user that can read only its own queue."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from urllib.parse import quote, urlparse

from services.backbone.amqp import connect, raw_channel
from services.backbone.settings import Settings
from services.kernel import filing_routes


@dataclass(frozen=True)
class Subscription:
    department: str
    user: str
    password: str
    queue: str
    amqp_uri: str
    heads_queue: str = ""  # the audit logs' signed tree heads, every one (anchors to keep)


def new_password() -> str:
    """144 random bits as URL-safe text, never starting with "-": rabbitmqctl would read such a
    password as an option and refuse the command."""
    password = secrets.token_urlsafe(18)
    return "p" + password[1:] if password.startswith("-") else password


@dataclass(frozen=True)
class Listed:
    """A department's broker user as RabbitMQ has it (never its password)."""

    department: str
    user: str
    queue: str
    read: str  # the read permission: the queue's own name, anchored


def _rabbitmqctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=60, check=False
    )


def user_of(settings: Settings, department: str) -> str:
    return f"{settings.namespace}dept-{department}"


def create(settings: Settings, department: str, rotate: bool = False) -> Subscription:
    """Declares the department's queues (its filings; every tree head) and (re)issues its broker user."""
    queue = filing_routes.subscription_queue(settings, department)
    conn = connect(settings.amqp_uri)
    try:
        channel = raw_channel(conn)
        exchange = filing_routes.subscription_exchange(settings)
        channel.exchange_declare(exchange, "headers", durable=True, auto_delete=False)
        channel.queue_declare(queue, durable=True, auto_delete=False)
        channel.queue_bind(queue, exchange, "", arguments=filing_routes.binding(department))
        heads = filing_routes.heads_queue(settings, department)
        channel.exchange_declare(
            filing_routes.heads_exchange(settings), "fanout", durable=True, auto_delete=False
        )
        channel.queue_declare(heads, durable=True, auto_delete=False)
        channel.queue_bind(heads, filing_routes.heads_exchange(settings), "")
    finally:
        conn.release()
    user, password = user_of(settings, department), new_password()
    added = _rabbitmqctl("add_user", user, password)
    if added.returncode != 0:
        if (
            "already exists" not in (added.stderr + added.stdout)
            and "user_already_exists" not in added.stderr
        ):
            raise RuntimeError(f"rabbitmqctl add_user failed: {added.stderr.strip()}")
        if not rotate:
            raise RuntimeError(f"{user} exists already: rotate its password instead")
        changed = _rabbitmqctl("change_password", user, password)
        if changed.returncode != 0:
            raise RuntimeError(f"rabbitmqctl change_password failed: {changed.stderr.strip()}")
    vhost = _vhost(settings)
    # configure nothing, write nothing, read only its own queues
    allowed = f"^({re.escape(queue)}|{re.escape(heads)})$"
    granted = _rabbitmqctl("set_permissions", "-p", vhost, user, "^$", "^$", allowed)
    if granted.returncode != 0:
        raise RuntimeError(f"rabbitmqctl set_permissions failed: {granted.stderr.strip()}")
    parsed = urlparse(settings.amqp_uri)
    credentials = f"{quote(user, safe='')}:{quote(password, safe='')}"
    uri = f"amqp://{credentials}@{parsed.hostname}:{parsed.port or 5672}/{quote(vhost, safe='')}"
    return Subscription(department, user, password, queue, uri, heads)


def _vhost(settings: Settings) -> str:
    return urlparse(settings.amqp_uri).path.lstrip("/") or "/"


def listed(settings: Settings) -> list[Listed]:
    """Every department's broker user on the hub's virtual host, by department code."""
    done = _rabbitmqctl("list_permissions", "-p", _vhost(settings), "--formatter", "json")
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl list_permissions failed: {done.stderr.strip()}")
    prefix = user_of(settings, "")
    found = []
    for entry in json.loads(done.stdout or "[]"):
        user = str(entry.get("user", ""))
        if user.startswith(prefix) and len(user) > len(prefix):
            department = user.removeprefix(prefix)
            queue = filing_routes.subscription_queue(settings, department)
            found.append(Listed(department, user, queue, str(entry.get("read", ""))))
    return sorted(found, key=lambda item: item.department)


def remove(settings: Settings, department: str) -> None:
    _rabbitmqctl("delete_user", user_of(settings, department))
