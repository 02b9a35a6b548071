#!/usr/bin/env bash
# Reproduces assets/vendor/: the exact npm releases the web pages serve from the binary
# (nothing is fetched at runtime, and `cargo build` never needs node). Run it after changing a
# pin below; commit the result, VERSIONS included.
set -euo pipefail
cd "$(dirname "$0")/.."
HTMX=2.0.11
PICO=2.1.1
out=assets/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
(cd "$work" && npm pack --silent "htmx.org@$HTMX" "@picocss/pico@$PICO" >/dev/null)
tar -xzf "$work/htmx.org-$HTMX.tgz" -C "$work" && mv "$work/package" "$work/htmx"
tar -xzf "$work/picocss-pico-$PICO.tgz" -C "$work" && mv "$work/package" "$work/pico"
cp "$work/htmx/dist/htmx.min.js" "$out/htmx-$HTMX.min.js"
cp "$work/htmx/LICENSE" "$out/htmx.LICENSE"
cp "$work/pico/css/pico.classless.min.css" "$out/pico-$PICO.classless.min.css"
cp "$work/pico/LICENSE.md" "$out/pico.LICENSE.md"
(cd "$out" && sha256sum "htmx-$HTMX.min.js" "pico-$PICO.classless.min.css" > VERSIONS)
cat "$out/VERSIONS"
