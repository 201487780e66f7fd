#!/usr/bin/env bash
# Re-vendors Swagger UI (the /api/docs viewer) from the npm registry into src/api/ops/swagger-ui/.
# It is served from the binary so the docs work offline and under `script-src 'self'`.
# Usage: scripts/vendor-swagger-ui.sh [version]   (default: the version vendored now)
set -euo pipefail
version="${1:-5.35.0}"
dest="$(cd "$(dirname "$0")/.." && pwd)/src/api/ops/swagger-ui"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf ./*.tgz)
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
    cp "$tmp/package/$f" "$dest/$f"
done
# The source map isn't shipped; drop the reference so browsers don't ask for it.
sed -i 's#/\*\# sourceMappingURL=swagger-ui.css.map\*/##' "$dest/swagger-ui.css"
sed -i "s/^const SWAGGER_UI_VERSION: &str = .*/const SWAGGER_UI_VERSION: \&str = \"$version\";/" \
    "$dest/../viewer.rs"
echo "vendored swagger-ui-dist $version into $dest"
