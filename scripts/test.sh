#!/usr/bin/env bash
# The whole offline test suite (`npm test`): type-check, lint the shell, unit/integration tests,
# and an offline `cdk synth` of the default lab. Needs shellcheck (apt-get install shellcheck);
# the NIC tuning tests need root for network namespaces (they are skipped, visibly, otherwise).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n== %s\n' "$*"; }

step "type-check (tsc --noEmit, strict)"
npx tsc --noEmit

step "shell lint (shellcheck -S warning, bash -n)"
bash scripts/lint-shell.sh

step "tests (jest)"
npm run -s test:unit -- --ci

step "offline synth of the default lab (cdk synth, schema validation and cdk-nag on)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx cdk synth --quiet --output "$out" >/dev/null
printf 'synth ok: %s\n' "$(ls "$out"/*.template.json)"
