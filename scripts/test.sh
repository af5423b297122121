#!/usr/bin/env bash
# Set up and run the whole test suite: lint, types, import layers, then pytest.
# Integration tests need dovecot (installed by .ci/run with apt-get); outside CI they skip without it.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=test bash scripts/setup.sh
echo "== ruff";        .venv/bin/ruff check maildesk tests bench
echo "== mypy";        .venv/bin/mypy maildesk
echo "== import-linter"; .venv/bin/lint-imports
echo "== pytest"
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
