#!/usr/bin/env bash
# Fetch the pinned front-end packages from the npm registry and copy their distribution files into
# src/cityops/web/static/vendor (and axe-core into tests/web/vendor). See that folder's README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for p in leaflet@1.9.4 leaflet.markercluster@1.5.3 echarts@6.1.0 htmx.org@2.0.11 alpinejs@3.17.4 axe-core@4.14.1; do
  npm pack --silent "$p" >/dev/null
done
for f in *.tgz; do mkdir -p "${f%.tgz}" && tar xzf "$f" -C "${f%.tgz}"; done
V="$top/src/cityops/web/static/vendor"
mkdir -p "$V"/{leaflet,leaflet.markercluster,echarts,htmx,alpinejs} "$top/tests/web/vendor"
cp leaflet-1.9.4/package/dist/{leaflet.js,leaflet.css} leaflet-1.9.4/package/LICENSE "$V/leaflet/"
cp -r leaflet-1.9.4/package/dist/images "$V/leaflet/"
cp leaflet.markercluster-1.5.3/package/dist/{leaflet.markercluster.js,MarkerCluster.css,MarkerCluster.Default.css} \
  "$V/leaflet.markercluster/"
cp leaflet.markercluster-1.5.3/package/MIT-LICENCE.txt "$V/leaflet.markercluster/LICENSE"
cp echarts-6.1.0/package/dist/echarts.min.js echarts-6.1.0/package/{LICENSE,NOTICE} "$V/echarts/"
cp htmx.org-2.0.11/package/dist/htmx.min.js htmx.org-2.0.11/package/LICENSE "$V/htmx/"
cp alpinejs-3.17.4/package/dist/cdn.min.js "$V/alpinejs/alpine.min.js"
cp axe-core-4.14.1/package/{axe.min.js,LICENSE} "$top/tests/web/vendor/"
echo "vendored into $V"
