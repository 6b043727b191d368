#!/usr/bin/env bash
# Builds the AssemblyScript test capsules tests/fixtures/capsules/wasm-*/index.ts
# into tests/fixtures/capsules/out/<name>.wasm (gitignored). Idempotent: installs
# the pinned toolchain (@extism/as-pdk, assemblyscript) from npm only when
# node_modules is missing or older than package-lock.json, and recompiles a
# capsule only when one of its sources is newer than its output. Safe to run
# from parallel test processes (an flock serialises the builds when available).
#
# Usage: deno task build:wasm      (or: bash scripts/build_wasm_fixtures.sh)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caps="$root/tests/fixtures/capsules"
tools="$caps/wasm-build"
out="$caps/out"
mkdir -p "$out"

if command -v flock >/dev/null 2>&1; then
  exec 9>"$out/.build.lock"
  flock 9
fi

if [ ! -f "$tools/node_modules/assemblyscript/bin/asc.js" ] ||
  [ ! -f "$tools/node_modules/@extism/as-pdk/index.ts" ] ||
  [ "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]; then
  echo "build:wasm: installing the AssemblyScript toolchain (npm ci)" >&2
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

if command -v node >/dev/null 2>&1; then
  asc=(node "$tools/node_modules/assemblyscript/bin/asc.js")
else
  asc=(deno run -A "$tools/node_modules/assemblyscript/bin/asc.js")
fi

pids=()
names=()
for dir in "$caps"/wasm-*/; do
  name="$(basename "$dir")"
  [ "$name" = "wasm-build" ] && continue
  [ -f "$dir/index.ts" ] || continue
  target="$out/$name.wasm"
  fresh=1
  for src in "$dir"/*.ts "$tools/astrid_guest.ts" "$tools/package-lock.json" "$0"; do
    if [ ! -f "$target" ] || [ "$src" -nt "$target" ]; then fresh=0; fi
  done
  [ "$fresh" = 1 ] && continue
  tmp="$out/.$name.$$.wasm"
  (cd "$caps" && "${asc[@]}" "$name/index.ts" --baseDir . \
    --path wasm-build/node_modules --outFile "$tmp" --optimize \
    --use abort=wasm-build/astrid_guest/astridAbort && mv -f "$tmp" "$target") &
  pids+=("$!")
  names+=("$name")
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "build:wasm: ${names[$i]} FAILED" >&2
    failed=1
  fi
done
rm -f "$out"/.*."$$".wasm
[ "$failed" = 0 ] || exit 1
echo "build:wasm: ${#pids[@]} built, output in tests/fixtures/capsules/out/" >&2
