#!/usr/bin/env bash
# Lints and format-checks the protobuf sources under protos/ with buf (config: buf.yaml).
# buf comes from the npm package @bufbuild/buf pinned in tools/package-lock.json: `npm ci --prefix tools`.
# Exits non-zero if buf is missing, if `buf lint` finds a problem, or if a file is not buf-formatted
# (the diff is printed; `tools/node_modules/.bin/buf format -w` rewrites the files).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
buf="$root/tools/node_modules/.bin/buf"

if [ ! -x "$buf" ]; then
  echo "lint-protos: $buf not found: the ecosystem tools are not installed." >&2
  echo "  Run: npm ci --prefix tools   (from $root; needs Node.js 20+ and the npm registry)" >&2
  exit 2
fi
if ! "$buf" --version >/dev/null 2>&1; then
  echo "lint-protos: $buf does not run (its platform binary, an optional dependency, may be missing)." >&2
  echo "  Reinstall: rm -rf tools/node_modules && npm ci --prefix tools" >&2
  exit 2
fi

if [ -z "$(find protos -name '*.proto' -print -quit 2>/dev/null)" ]; then
  echo "lint-protos: no .proto files under protos/; nothing to check."
  exit 0
fi

rc=0
echo "lint-protos: buf $("$buf" --version) lint"
"$buf" lint || rc=1
echo "lint-protos: buf format --diff --exit-code"
"$buf" format --diff --exit-code || rc=1
if [ "$rc" -ne 0 ]; then
  echo "lint-protos: FAILED" >&2
else
  echo "lint-protos: OK"
fi
exit "$rc"
