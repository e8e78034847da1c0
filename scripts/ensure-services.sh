#!/usr/bin/env bash
# Makes sure the local RabbitMQ (and, with --postgres, PostgreSQL) answer, starting them where
# they are installed but stopped. Names what is missing otherwise.
set -euo pipefail
# With --province (implies --postgres), the local cluster also gets infra/postgres/province.conf.
want_pg=0
want_province=0
for arg in "$@"; do
  case "$arg" in
    --postgres) want_pg=1 ;;
    --province) want_pg=1; want_province=1 ;;
  esac
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port, seconds, what
  for _ in $(seq 1 "$2"); do port_open "$1" && return 0; sleep 1; done
  echo "ensure-services: $3 did not answer on 127.0.0.1:$1 within $2 s" >&2; return 1
}

if ! port_open 5672; then
  if command -v rabbitmq-server >/dev/null; then
    echo "ensure-services: starting RabbitMQ"
    rabbitmq-server -detached || true
    wait_port 5672 90 RabbitMQ
    # The port opens before the broker is ready; wait until the node answers.
    if command -v rabbitmqctl >/dev/null; then
      for _ in $(seq 1 60); do rabbitmqctl -q await_startup >/dev/null 2>&1 && break; sleep 1; done
    fi
  else
    echo "ensure-services: RabbitMQ is not running on 127.0.0.1:5672 and rabbitmq-server is not installed." >&2
    echo "  Install it (apt-get install rabbitmq-server) or set HUB_AMQP_URI to a broker you have." >&2
    exit 1
  fi
elif command -v rabbitmqctl >/dev/null; then
  # The listener can be up while the app is stopped (rabbitmqctl stop_app): start it again.
  if ! rabbitmqctl -q status >/dev/null 2>&1 || ! rabbitmqctl -q list_queues name >/dev/null 2>&1; then
    rabbitmqctl -q start_app >/dev/null 2>&1 || true
  fi
fi

if [ "$want_pg" = 1 ] && ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    wait_port 5432 60 PostgreSQL
  else
    echo "ensure-services: PostgreSQL is not running on 127.0.0.1:5432 and no local cluster is installed." >&2
    exit 1
  fi
fi
if [ "$want_pg" = 1 ] && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  # A test hub is a dozen processes with small connection pools each; the default budget of
  # 100 connections is too tight. Raise it once through the cluster's conf.d (needs a restart).
  version=$(ls /etc/postgresql | head -1)
  conf="/etc/postgresql/$version/main/conf.d/95-riskhub.conf"
  if [ -d "$(dirname "$conf")" ] && ! grep -qs "max_connections = 500" "$conf"; then
    echo "ensure-services: raising PostgreSQL max_connections to 500 (restart)"
    echo "max_connections = 500" > "$conf"
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    wait_port 5432 60 PostgreSQL
  fi
  province="/etc/postgresql/$version/main/conf.d/96-riskhub-province.conf"
  here="$(cd "$(dirname "$0")/.." && pwd)/infra/postgres/province.conf"
  if [ "$want_province" = 1 ] && [ -d "$(dirname "$province")" ] && ! cmp -s "$here" "$province"; then
    echo "ensure-services: sizing PostgreSQL for a province (infra/postgres/province.conf; restart)"
    cp "$here" "$province"
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart
    wait_port 5432 60 PostgreSQL
  fi
fi
echo "ensure-services: RabbitMQ ok$([ "$want_pg" = 1 ] && echo ', PostgreSQL ok')"
