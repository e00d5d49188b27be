#!/usr/bin/env bash
# Lints every shell script in the repo: bash -n, then shellcheck at warning level (following sources).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v shellcheck >/dev/null || { echo "shellcheck is not installed (apt-get install shellcheck)" >&2; exit 2; }
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.sh' .ci/run)
for file in "${files[@]}"; do
  bash -n "$file"
done
shellcheck -x -S warning "${files[@]}"
printf 'shell lint ok: %d files\n' "${#files[@]}"
