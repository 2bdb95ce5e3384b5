#!/usr/bin/env bash
# Prepares a fresh machine that has Node and npm: the pinned Bun, the optional system OpenBLAS
# (the fast CPU matmul kernels use it; everything works without it), an optional C compiler (for
# the fused native kernels), and the workspace packages.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN_VERSION=$(sed -n 's/.*"packageManager": "bun@\([0-9.]*\)".*/\1/p' package.json)

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "setup: installing bun@$BUN_VERSION with npm" >&2
  npm install -g "bun@$BUN_VERSION" >&2
fi

if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so\.0'; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing libopenblas0-pthread (optional BLAS kernels)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas0-pthread; } >&2 \
      || echo "setup: OpenBLAS not installed; training falls back to the plain wasm kernels" >&2
  else
    echo "setup: OpenBLAS not found and apt-get unavailable; training uses the plain wasm kernels" >&2
  fi
fi

# A C compiler builds the fused native kernels (RMSNorm, SwiGLU, attention) on first use;
# without one the model runs its TensorFlow.js compositions, only slower.
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing gcc (optional fused native kernels)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; } >&2 \
      || echo "setup: gcc not installed; training uses the TensorFlow.js kernels" >&2
  else
    echo "setup: no C compiler and apt-get unavailable; training uses the TensorFlow.js kernels" >&2
  fi
fi

# Headless Chromium lets a test render the `compare` report (the test is skipped, with a message,
# where it is missing).
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "setup: installing chromium (headless render check of the compare report)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
      || echo "setup: chromium not installed; the report render test will be skipped" >&2
  else
    echo "setup: chromium not found and apt-get unavailable (or not root); the report render test will be skipped" >&2
  fi
fi

bun install --frozen-lockfile >&2
