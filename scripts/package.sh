#!/usr/bin/env bash
# Builds the release artefact (docs/decisions.md D-49): Hibari.Server published self-contained for linux-x64 (no .NET
# needed on the target), the demo page with its sora.js, hibari.conf.example, a systemd unit and INSTALL.md, in
#   dist/hibari-<version>-linux-x64/      and      dist/hibari-<version>-linux-x64.tar.gz
# <version> is $HIBARI_VERSION, else `git describe --tags --always --dirty`. Progress goes to stderr; the only line on
# stdout is the artefact directory's absolute path (scripts/test.sh reads it). Needs the .NET SDK and npm (for the
# demo page's sora-js-sdk, `web/install.sh`); the linux-x64 runtime packs come from NuGet on the first run.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
version=${HIBARI_VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
name="hibari-$version-linux-x64"
out="$repo/dist/$name"
say() { echo "package.sh: $*" >&2; }

command -v npm >/dev/null 2>&1 || { say "npm is needed for the demo page's sora.js (web/install.sh)"; exit 1; }
web/install.sh >&2

# dist/ holds one artefact: earlier ones (other versions) go.
rm -rf "$repo"/dist/hibari-*-linux-x64 "$repo"/dist/hibari-*-linux-x64.tar.gz
mkdir -p "$out"
say "dotnet publish (self-contained, linux-x64) → dist/$name/bin"
t0=$(date +%s)
# One directory, not a single file (D-49). The runtime settings of Hibari.Server.csproj (TieredPGO, the thread pool's
# spin limit, invariant globalization) are in bin/Hibari.Server.runtimeconfig.json as in the build output.
# In the usual obj/ and bin/: the library (Hibari.dll) is the Release build's, compiled once (the runtime identifier does
# not flow to it); only Hibari.Server is built again for linux-x64.
dotnet publish src/Hibari.Server/Hibari.Server.csproj -c Release -r linux-x64 --self-contained true \
  -o "$out/bin" -nologo -v quiet >&2
# The `hibari` command next to it (tools/Hibari.Cli: its own hibari.dll and runtimeconfig, the same runtime files).
dotnet publish tools/Hibari.Cli/Hibari.Cli.csproj -c Release -r linux-x64 --self-contained true \
  -o "$out/bin" -nologo -v quiet >&2
say "published in $(( $(date +%s) - t0 )) s"
grep -q '"System.Runtime.TieredPGO": false' "$out/bin/Hibari.Server.runtimeconfig.json" \
  || { say "TieredPGO=false is missing from the published runtimeconfig.json"; exit 1; }

# The demo page (demo_dir): the files the node serves from the folder itself, and /sora.js with its licence.
mkdir -p "$out/web/node_modules/sora-js-sdk/dist"
find web -maxdepth 1 -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.svg' -o -name '*.png' -o -name '*.ico' \) \
  -exec cp {} "$out/web/" \;
for f in dist/sora.js LICENSE package.json; do cp "web/node_modules/sora-js-sdk/$f" "$out/web/node_modules/sora-js-sdk/$f"; done

cp hibari.conf.example "$out/"
cp packaging/hibari.service packaging/INSTALL.md "$out/"
echo "$version" > "$out/VERSION"

tar -C "$repo/dist" -czf "$out.tar.gz" "$name"
say "dist/$name: $(du -sh "$out" | cut -f1) ($(find "$out" -type f | wc -l) files), dist/$name.tar.gz: $(du -h "$out.tar.gz" | cut -f1)"
echo "$out"
