"""Hub settings, read once from the environment: the one place a hub process reads its configuration
(each process's main, or its nameko dependency's setup, calls Settings.from_env() and passes the values
on). Nothing is read at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse


def default_secrets_dir(environ: dict[str, str] | None = None) -> Path:
    """Where the hub keeps its keys unless told (HUB_SECRETS_DIR): the user's configuration folder
    ($XDG_CONFIG_HOME/riskhub, or ~/.config/riskhub), never beside the stores."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "riskhub"


SERVICES = ("registry", "riskpoints", "dangers", "filing", "notifications", "audit")
AUDIT_KEY_FILE, CHAIN_KEY_FILE = "audit-sm2.key", "write-link.key"  # their names in the secrets folder


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _gc_threshold(value: str) -> tuple[int, int, int]:
    """HUB_GC_THRESHOLD: three counts, "50000,20,20" (the default when empty), as gc.set_threshold takes
    them; "700,10,10" is Python's own."""
    if not value.strip():
        return Settings.gc_threshold
    parts = value.replace(" ", "").split(",")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[0]) == 0:
        raise ValueError(
            f"HUB_GC_THRESHOLD={value!r}: three whole numbers, the first above 0 (e.g. 50000,20,20)"
        )
    return (int(parts[0]), int(parts[1]), int(parts[2]))


@dataclass(frozen=True)
class Settings:
    """Where the broker and the stores are, and how names are prefixed."""

    amqp_uri: str = "amqp://guest:guest@127.0.0.1:5672//"
    database_url: str = ""  # empty: one SQLite file per service under runtime_dir
    runtime_dir: Path = Path("var")
    # The hub's own keys (the one every enterprise's secret derives from, the stores' cipher key), kept
    # apart from the runtime folder: whoever gets the stores does not get the keys with them.
    secrets_dir: Path = field(default_factory=lambda: default_secrets_dir())
    namespace: str = ""  # prefixes exchanges, queues and PostgreSQL schemas (tests isolate with it)
    queue_type: str = "classic"  # "quorum" on a RabbitMQ cluster
    relay_page_size: int = 500
    consumer_batch_size: int = 500
    consumer_max_attempts: int = 5
    log_format: str = "console"
    log_level: str = "info"  # debug adds the relays' and consumers' per-page lines
    per_service_urls: dict[str, str] = field(default_factory=dict)
    # the edges
    gateway_address: str = "127.0.0.1:50051"
    tls_cert: str = ""  # PEM files: the gateway and the audit endpoint speak TLS when both are set
    tls_key: str = ""
    registration_token: str = ""  # empty: one made once under the runtime folder
    console_address: str = "127.0.0.1:8800"  # the web console (安全监管工作台)
    console_secure_cookies: bool = False  # behind HTTPS: the session cookie only over TLS
    audit_address: str = "127.0.0.1:50061"  # the audit endpoint (auditors' gRPC)
    metrics_port: int = 0  # /metrics of this process; 0: off
    metrics_addr: str = "127.0.0.1"
    # the services' own settings (handed to their applications with app_env)
    credential_key: str = ""  # derives every enterprise's secret; empty: one made once, kept by the hub
    escalation_delay_days: float = 3.0
    penalties_file: str = ""
    thresholds_file: str = ""
    dangers_timer_seconds: float = 60.0
    notify_sender_idle: float = 0.5
    report_timer_seconds: float = 3600.0
    encrypt_stores: bool = True  # every store's events encrypted at rest (services/backbone/at_rest.py)
    consistency_wait: float = 10.0  # how long a read waits for the caller's writes (read-your-writes)
    # the audit (services/audit): how often the worker passes, when it signs, how many processes verify
    audit_interval: float = 2.0
    audit_checkpoint_every: int = 10000
    audit_checkpoint_seconds: float = 60.0
    audit_verify_workers: int = 0  # 0: the worker and hubctl one per CPU, the audit endpoint one
    # the audit's keys (services/audit/keys.py, services/backbone/links.py): given (hex, from a secret
    # store), else a file made once, by default in the secrets folder (see audit_key_path, chain_key_path)
    audit_private_key: str = ""
    audit_public_key: str = ""  # pins the key heads must be signed with
    audit_key_file: Path | None = None
    auditor_token: str = ""  # empty: one made once under the runtime folder
    chain_key: str = ""  # the write-link key, the same for every process of a hub
    chain_key_file: Path | None = None
    # the department adapter
    adapter_max_attempts: int = 8
    adapter_deadline: float = 5.0
    # every process: Python's cyclic collector's thresholds (services/backbone/process.py)
    gc_threshold: tuple[int, int, int] = (50_000, 20, 20)
    # every HUB_* variable as read, for the few modules with settings of their own (notifications'
    # rates and retries, the reference platforms' addresses)
    hub_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        return cls(
            amqp_uri=env.get("HUB_AMQP_URI", cls.amqp_uri),
            database_url=env.get("HUB_DATABASE_URL", ""),
            runtime_dir=Path(env.get("HUB_RUNTIME_DIR", "var")),
            secrets_dir=Path(env.get("HUB_SECRETS_DIR") or default_secrets_dir(env)),
            namespace=env.get("HUB_NAMESPACE", ""),
            queue_type=env.get("HUB_QUEUE_TYPE", "classic"),
            relay_page_size=int(env.get("HUB_RELAY_PAGE_SIZE", "500")),
            consumer_batch_size=int(env.get("HUB_CONSUMER_BATCH_SIZE", "500")),
            consumer_max_attempts=int(env.get("HUB_CONSUMER_MAX_ATTEMPTS", "5")),
            log_format=env.get("HUB_LOG_FORMAT", "console"),
            log_level=env.get("HUB_LOG_LEVEL", "info"),
            per_service_urls={
                s: env[f"HUB_DATABASE_URL_{s.upper()}"]
                for s in (*SERVICES, "console")
                if env.get(f"HUB_DATABASE_URL_{s.upper()}")
            },
            gateway_address=env.get("HUB_GATEWAY_ADDRESS", cls.gateway_address),
            tls_cert=env.get("HUB_TLS_CERT", ""),
            tls_key=env.get("HUB_TLS_KEY", ""),
            registration_token=env.get("HUB_REGISTRATION_TOKEN", ""),
            console_address=env.get("HUB_CONSOLE_ADDRESS", cls.console_address),
            console_secure_cookies=env.get("HUB_CONSOLE_SECURE_COOKIES", "").strip() in ("1", "true", "yes"),
            audit_address=env.get("HUB_AUDIT_ADDRESS", cls.audit_address),
            metrics_port=int(env.get("HUB_METRICS_PORT", "").strip() or 0),
            metrics_addr=env.get("HUB_METRICS_ADDR", cls.metrics_addr),
            credential_key=env.get("HUB_CREDENTIAL_KEY", ""),
            escalation_delay_days=float(env.get("HUB_ESCALATION_DELAY_DAYS", "3")),
            penalties_file=env.get("HUB_PENALTIES_FILE", ""),
            thresholds_file=env.get("HUB_THRESHOLDS_FILE", ""),
            dangers_timer_seconds=float(env.get("HUB_DANGERS_TIMER_SECONDS", "60")),
            notify_sender_idle=float(env.get("HUB_NOTIFY_SENDER_IDLE", "0.5")),
            report_timer_seconds=float(env.get("HUB_REPORT_TIMER_SECONDS", "3600")),
            consistency_wait=float(env.get("HUB_CONSISTENCY_WAIT", "10")),
            encrypt_stores=env.get("HUB_ENCRYPT_STORES", "true").strip().lower() not in ("0", "false", "no"),
            audit_interval=float(env.get("HUB_AUDIT_INTERVAL", "2")),
            audit_checkpoint_every=int(env.get("HUB_AUDIT_CHECKPOINT_EVERY", "10000")),
            audit_checkpoint_seconds=float(env.get("HUB_AUDIT_CHECKPOINT_SECONDS", "60")),
            audit_verify_workers=int(env.get("HUB_AUDIT_VERIFY_WORKERS", "").strip() or 0),
            audit_private_key=env.get("HUB_AUDIT_PRIVATE_KEY", ""),
            audit_public_key=env.get("HUB_AUDIT_PUBLIC_KEY", ""),
            audit_key_file=_path(env.get("HUB_AUDIT_KEY_FILE")),
            auditor_token=env.get("HUB_AUDITOR_TOKEN", ""),
            chain_key=env.get("HUB_CHAIN_KEY", ""),
            chain_key_file=_path(env.get("HUB_CHAIN_KEY_FILE")),
            adapter_max_attempts=int(env.get("HUB_ADAPTER_MAX_ATTEMPTS", "8")),
            adapter_deadline=float(env.get("HUB_ADAPTER_DEADLINE", "5")),
            gc_threshold=_gc_threshold(env.get("HUB_GC_THRESHOLD", "")),
            hub_env={k: v for k, v in env.items() if k.startswith("HUB_")},
        )

    @property
    def audit_key_path(self) -> Path:
        """The audit key's file: HUB_AUDIT_KEY_FILE, else audit-sm2.key in the secrets folder."""
        return self.audit_key_file or self.secrets_dir / AUDIT_KEY_FILE

    @property
    def chain_key_path(self) -> Path:
        """The write-link key's file: HUB_CHAIN_KEY_FILE, else write-link.key in the secrets folder."""
        return self.chain_key_file or self.secrets_dir / CHAIN_KEY_FILE

    def app_env(self) -> dict[str, str]:
        """What a service's application reads of the settings, in its eventsourcing env."""
        values = {
            "HUB_RUNTIME_DIR": str(self.runtime_dir),
            "HUB_SECRETS_DIR": str(self.secrets_dir),
            "HUB_CREDENTIAL_KEY": self.credential_key,
            "HUB_ESCALATION_DELAY_DAYS": str(self.escalation_delay_days),
            "HUB_PENALTIES_FILE": self.penalties_file,
            "HUB_THRESHOLDS_FILE": self.thresholds_file,
            "HUB_CONSISTENCY_WAIT": str(self.consistency_wait),
            "HUB_CHAIN_KEY_FILE": str(self.chain_key_path),
        }
        # the write-link key as these settings have it, even empty: the store's recorder links with it
        # (services/backbone/link_recorders.py), never with another the process's environment holds
        return {**{k: v for k, v in values.items() if v}, "HUB_CHAIN_KEY": self.chain_key}

    def database_url_for(self, service: str) -> str:
        return self.per_service_urls.get(service, self.database_url)

    def persistence_env(self, service: str) -> dict[str, str]:
        """The eventsourcing environment of one service's own store (encrypted, unless turned off)."""
        return {**self._persistence(service), **self.cipher_env()}

    def cipher_env(self) -> dict[str, str]:
        """How every store encrypts its events at rest: the cipher and the key from the secrets folder."""
        if not self.encrypt_stores:
            return {}
        from services.backbone import at_rest  # only the processes that open stores need it

        return {"CIPHER_TOPIC": at_rest.TOPIC, "CIPHER_KEY": at_rest.store_key(self.secrets_dir)}

    def _persistence(self, service: str) -> dict[str, str]:
        url = self.database_url_for(service)
        if not url:
            self.runtime_dir.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.runtime_dir / f"{self.namespace}{service}.sqlite"),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        parsed = urlparse(url)
        if parsed.scheme not in ("postgresql", "postgres"):
            raise ValueError(f"HUB_DATABASE_URL: unsupported scheme {parsed.scheme!r}")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/") or "hub",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_SCHEMA": self.schema_for(service),
            # Small pools: a hub is a dozen processes sharing one server's connection budget.
            "POSTGRES_POOL_SIZE": "2",
            "POSTGRES_MAX_OVERFLOW": "6",
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }

    def schema_for(self, service: str) -> str:
        return f"{self.namespace}{service}".replace(".", "_").replace("-", "_")

    def exchange(self, service: str) -> str:
        return f"{self.namespace}{service}.events"

    def queue(self, consumer: str, upstream: str) -> str:
        return f"{self.namespace}{consumer}.from.{upstream}"

    @property
    def unrouted(self) -> str:
        """The exchange that takes the events no queue is bound to."""
        return f"{self.namespace}hub.unrouted"

    @property
    def unrouted_queue(self) -> str:
        """Where the latest of those are kept for a look (the stores hold them all)."""
        return f"{self.namespace}hub.unrouted.latest"

    @property
    def nameko_config(self) -> dict[str, object]:
        return {
            "AMQP_URI": self.amqp_uri,
            "rpc_exchange": self.rpc_exchange,
            "HUB_NAMESPACE": self.namespace,
            "serializer": "json",
        }

    @property
    def rpc_exchange(self) -> str:
        return f"{self.namespace}nameko-rpc"
