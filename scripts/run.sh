#!/usr/bin/env bash
# Set everything up and run maildesk on the embedded defaults:
# SQLite under var/, the in-process queue, SMTP on 127.0.0.1:8025, outbound mail into var/outbox/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f maildesk.conf ]; then
    cp maildesk.conf.example maildesk.conf
    echo "created maildesk.conf from maildesk.conf.example (support address: support@example.org)"
fi
.venv/bin/maildesk --config maildesk.conf init
exec .venv/bin/maildesk --config maildesk.conf serve
