#!/usr/bin/env bash
# Build the npm package shoptrain-forecast: the wasm runtime (build-wasm.sh),
# the JS API, the <sales-forecast> element, their TypeScript declarations and
# README (web-demo/npm/), packed by `npm pack` into
# target/npm/shoptrain-forecast-VERSION.tgz (VERSION: the workspace's).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "build-npm: needs npm (Node.js 20 or newer)" >&2; exit 1; }

[ "${SKIP_WASM:-0}" = 1 ] || scripts/build-wasm.sh
version=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
[ -n "$version" ] || { echo "build-npm: no version in Cargo.toml's [workspace.package]" >&2; exit 1; }

stage=target/npm/package
rm -f target/npm/*.tgz
rm -rf "$stage" && mkdir -p "$stage/pkg"
cp web-demo/runtime.js web-demo/sales-forecast.js web-demo/chart.js "$stage/"
cp web-demo/npm/README.md web-demo/npm/index.d.ts web-demo/npm/element.d.ts "$stage/"
cp web-demo/pkg/shoptrain_runtime_wasm.js web-demo/pkg/shoptrain_runtime_wasm_bg.wasm "$stage/pkg/"
sed "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" web-demo/npm/package.json > "$stage/package.json"

tgz=$(cd "$stage" && npm pack --silent --pack-destination ..)
echo "build-npm: target/npm/$tgz"
