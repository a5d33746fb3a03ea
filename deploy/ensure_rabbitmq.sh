#!/usr/bin/env bash
# Make sure the RabbitMQ broker that AMQP_URI names is there, as far as we can from here.
# Used by `make up`.
#
# - RabbitMQ not installed locally (say, the broker is elsewhere): do nothing.
# - Installed but stopped: start it (`rabbitmq-server -detached`) and wait until it is up.
# - AMQP_URI names a vhost other than "/" on this machine: create it if missing and grant
#   its user access, so a second platform (or the end-to-end tests) can use its own vhost.
#   Best effort: if rabbitmqctl may not do that (not root, say), say so and carry on.
set -euo pipefail

AMQP_URI="${AMQP_URI:-amqp://guest:guest@127.0.0.1:5672/}"

if ! command -v rabbitmqctl >/dev/null 2>&1; then
    echo "rabbitmqctl not found: assuming the broker at ${AMQP_URI%%@*}@... is managed elsewhere"
    exit 0
fi

if ! rabbitmqctl -q status >/dev/null 2>&1; then
    echo "starting RabbitMQ (rabbitmq-server -detached)"
    rabbitmq-server -detached
    # await_startup waits for the node once the Erlang VM answers; before that it fails
    # at once, hence the bounded loop around it.
    for _ in $(seq 60); do
        if rabbitmqctl -q await_startup --timeout 5 >/dev/null 2>&1; then break; fi
        sleep 1
    done
    rabbitmqctl -q status >/dev/null 2>&1 || { echo "RabbitMQ did not start within ~60 s" >&2; exit 1; }
fi

# amqp://user:password@host:port/vhost  (vhost percent-encoded; empty or "/" = default)
read -r host user vhost < <(python3 - "$AMQP_URI" <<'EOF'
import sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
vhost = urllib.parse.unquote(u.path[1:]) if len(u.path) > 1 else "/"
print(u.hostname or "127.0.0.1", urllib.parse.unquote(u.username or "guest"), vhost or "/")
EOF
)

case "$host" in 127.0.0.1|localhost|::1) ;; *) exit 0;; esac
[ "$vhost" = "/" ] && exit 0

if ! rabbitmqctl -q list_vhosts --no-table-headers 2>/dev/null | grep -qxF -- "$vhost"; then
    echo "creating RabbitMQ vhost '$vhost' for user '$user'"
    if ! { rabbitmqctl -q add_vhost "$vhost" \
           && rabbitmqctl -q set_permissions -p "$vhost" "$user" ".*" ".*" ".*"; } >/dev/null; then
        echo "warning: could not create vhost '$vhost'; create it yourself:" \
             "rabbitmqctl add_vhost '$vhost' && rabbitmqctl set_permissions -p '$vhost' '$user' '.*' '.*' '.*'" >&2
    fi
fi
