#!/usr/bin/env bash
# Copy vega, vega-lite, vega-embed and MathJax (versions pinned in package-lock.json) from npm into the book's
# static files, so its charts and formulas render with no network. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=book/_static/vendor
if [ ! -d node_modules/vega-embed ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$dest"
cp node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js \
  node_modules/vega-embed/build/vega-embed.min.js "$dest/"
mkdir -p "$dest/mathjax/output/chtml/fonts"
cp node_modules/mathjax/es5/tex-mml-chtml.js "$dest/mathjax/"
cp -r node_modules/mathjax/es5/output/chtml/fonts/woff-v2 "$dest/mathjax/output/chtml/fonts/"
echo "[vendor] vega $(node -p 'require("./node_modules/vega/package.json").version'), vega-lite $(node -p 'require("./node_modules/vega-lite/package.json").version'), vega-embed $(node -p 'require("./node_modules/vega-embed/package.json").version'), mathjax $(node -p 'require("./node_modules/mathjax/package.json").version') -> $dest"
