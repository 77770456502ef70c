#!/usr/bin/env bash
# Vendor the workbench's front-end package from npm into src/codesign_playground/web/static/vendor/
# (committed: the app never reaches a CDN at run time). Rerun after changing PLOTLY_VERSION.
#
# plotly.min.js is Plotly's *strict* bundle (dist/plotly-strict.min.js): every trace type, but
# built without function constructors, so it runs under the workbench's CSP (script-src 'self',
# no 'unsafe-eval'). plotly.css is loaded by a <link> whose id tells Plotly not to inject
# inline <style> elements (style-src 'self', no 'unsafe-inline'). The bundle also injects
# MapLibre's stylesheet in a <style> with a fixed id unless an element with that id exists: the
# script writes those rules to plotly-maplibre.css and its id to plotly-maplibre.id, and the
# workbench (js/charts.js) links the file under that id before it loads Plotly.
set -euo pipefail
PLOTLY_VERSION="${PLOTLY_VERSION:-4.1.1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/src/codesign_playground/web/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "plotly.js@${PLOTLY_VERSION}" >/dev/null)
tar -xzf "$tmp/plotly.js-${PLOTLY_VERSION}.tgz" -C "$tmp" \
  package/dist/plotly-strict.min.js package/dist/plotly.css package/LICENSE package/package.json
mkdir -p "$dest"
cp "$tmp/package/dist/plotly-strict.min.js" "$dest/plotly.min.js"
cp "$tmp/package/dist/plotly.css" "$dest/plotly.css"
cp "$tmp/package/LICENSE" "$dest/plotly.LICENSE"
python3 - "$dest" <<'PY'
import re, sys, pathlib
dest = pathlib.Path(sys.argv[1])
js = (dest / "plotly.min.js").read_text(encoding="utf-8")
m = re.search(r'getElementById\("([0-9a-f]{64})"\)\)\{var (\w+)=document\.createElement\("style"\);'
              r'\2\.id="\1",\2\.textContent=\'((?:[^\'\\]|\\.)*)\'', js)
if m is None:
    sys.exit("vendor_web: the MapLibre <style> injection was not found; check index.html by hand")
(dest / "plotly-maplibre.id").write_text(m.group(1) + "\n")
(dest / "plotly-maplibre.css").write_text(m.group(3).encode().decode("unicode_escape") + "\n")
PY
license="$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["license"])' "$tmp/package/package.json")"
cat > "$dest/VERSIONS" <<TXT
# vendored by scripts/vendor_web.sh from the npm registry; do not edit by hand
plotly.min.js  plotly.js@${PLOTLY_VERSION} dist/plotly-strict.min.js  license ${license} (plotly.LICENSE)
plotly.css     plotly.js@${PLOTLY_VERSION} dist/plotly.css            license ${license} (plotly.LICENSE)
plotly-maplibre.css  the MapLibre rules plotly.min.js would inject inline (id in plotly-maplibre.id)
TXT
echo "vendored plotly.js ${PLOTLY_VERSION} into ${dest#"$root"/}"
