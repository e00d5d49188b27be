#!/usr/bin/env bash
# The whole offline test suite (`npm test`): type-check, lint the shell, unit/integration tests,
# and an offline `cdk synth` of the default lab. Needs shellcheck (apt-get install shellcheck);
# the NIC tuning tests need root for network namespaces (they are skipped, visibly, otherwise).
# Each phase ends with a `== <phase>: N.N s` line (scripts/bench/test-loop.ts reads them); with
# CILIUM_LAB_JEST_REPORT=FILE, jest also writes its JSON report (per-suite times) to FILE.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phase_started=""
step() {
  phase_started=${EPOCHREALTIME/./}
  printf '\n== %s\n' "$*"
}
took() {
  local now=${EPOCHREALTIME/./}
  local ms=$(((now - phase_started) / 1000))
  printf '== %s: %d.%d s\n' "$1" $((ms / 1000)) $(((ms % 1000) / 100))
}

# TypeScript 7 (the native compiler, package alias typescript7) type-checks: the same files and
# diagnostics as TypeScript 5.9 in a quarter of the time. TypeScript 5.9 stays for ts-jest, which
# needs the JavaScript compiler API that TypeScript 7 does not ship.
step "type-check (tsc --noEmit, strict, TypeScript 7)"
node node_modules/typescript7/bin/tsc --noEmit
took type-check

step "shell lint (shellcheck -S warning, bash -n)"
bash scripts/lint-shell.sh
took shell-lint

step "tests (jest)"
npm run -s test:unit -- --ci ${CILIUM_LAB_JEST_REPORT:+--json "--outputFile=${CILIUM_LAB_JEST_REPORT}"}
took jest

step "offline synth of the default lab (cdk synth, schema validation and cdk-nag on)"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
npx cdk synth --quiet --output "$out" >/dev/null
printf 'synth ok: %s\n' "$(ls "$out"/*.template.json)"
took synth
