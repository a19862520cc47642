#!/usr/bin/env bash
# Packs nest-limiter, checks what the tarball holds, installs it into a scratch Nest app outside the
# repo, compiles the app against the package's types and runs it: proves `npm pack` yields a usable
# package, for the current tsconfig (nodenext, TS 6) and the classic one (commonjs + node10, TS 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The last TypeScript with node10 resolution undeprecated: what apps on the classic Nest tsconfig run.
ts5=5.9.3
cd "$root"
npm run build >/dev/null
tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
cd "$scratch"

# The tarball: a LICENSE, and README images that render from the registry page. npm only rewrites
# relative images for a GitHub repository, which package.json has none of: each image must be an
# absolute URL, and one into the package on jsDelivr must name this version and a file it ships.
tar -tzf "$tarball" > listing.txt
grep -qx 'package/LICENSE' listing.txt || { echo 'the tarball holds no LICENSE' >&2; exit 1; }
node -e '
const fs = require("fs");
const [root, listing] = process.argv.slice(1);
const pkg = require(root + "/package.json");
const files = new Set(fs.readFileSync(listing, "utf8").split("\n"));
const readme = fs.readFileSync(root + "/README.md", "utf8");
const images = [...readme.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)/g), ...readme.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
const cdn = "https://cdn.jsdelivr.net/npm/" + pkg.name + "@";
const own = cdn + pkg.version + "/";
for (const url of images) {
  if (!url.startsWith("https://")) throw new Error(`README image ${url}: not an absolute https URL, broken on the registry page`);
  if (url.startsWith(cdn) && !url.startsWith(own)) throw new Error(`README image ${url}: not version ${pkg.version}`);
  if (url.startsWith(own) && !files.has("package/" + url.slice(own.length))) throw new Error(`README image ${url}: not in the tarball`);
}
console.log(`tarball holds LICENSE; README images (${images.length}) are absolute, those in the package name ${pkg.version} and are shipped`);
' "$root" listing.txt

node -e '
const root = require(process.argv[1] + "/package.json");
const dev = root.devDependencies;
const pick = (n) => [n, dev[n]];
require("fs").writeFileSync("package.json", JSON.stringify({
  name: "scratch-app", private: true,
  dependencies: Object.fromEntries([
    ["nest-limiter", "file:./" + process.argv[2]],
    ...["@nestjs/common", "@nestjs/core", "@nestjs/platform-express", "reflect-metadata", "rxjs", "typescript", "@types/node"].map(pick),
    ["typescript5", "npm:typescript@" + process.argv[3]],
  ]),
  overrides: root.overrides,
}, null, 2));' "$root" "$tarball" "$ts5"

# Installs, and fails on an EBADENGINE warning other than the ones the README names: on Node < 22,
# file-type (pinned by @nestjs/common 12, declares Node >= 22); none from Node 22 on.
install() {
  npm install --no-audit --no-fund --prefer-offline --loglevel=warn "$@" >/dev/null 2>install.log || { cat install.log >&2; exit 1; }
  node -e '
const log = require("fs").readFileSync("install.log", "utf8");
const warned = [...new Set([...log.matchAll(/EBADENGINE\s+package: \x27([^\x27]+)\x27/g)].map((m) => m[1]))].sort();
const expected = Number(process.versions.node.split(".")[0]) < 22 ? ["file-type"] : [];
const names = warned.map((p) => p.slice(0, p.lastIndexOf("@")));
if (names.join() !== expected.join()) {
  throw new Error(`EBADENGINE on Node ${process.version}: [${warned}], the README names [${expected}]`);
}
console.log(`${["npm install", process.argv[1]].filter(Boolean).join(" ")} on Node ${process.version}: EBADENGINE only for [${warned}]`);' "$*"
}
install

cp "$root/test/pack/app.ts" "$root/test/pack/node10-app.ts" .
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2023", "module": "nodenext", "moduleResolution": "nodenext", "strict": true,
  "experimentalDecorators": true, "emitDecoratorMetadata": true, "skipLibCheck": false, "types": ["node"], "outDir": "out" },
  "files": ["app.ts"] }
JSON
node node_modules/typescript/bin/tsc -p tsconfig.json
node out/app.js
# The optional BullMQ entry point: resolvable through "exports", with its types, while the app
# above ran without bullmq installed (nest-limiter itself never loads it).
test -f node_modules/nest-limiter/dist/lib/bullmq/index.d.ts
node -e 'const p = require.resolve("nest-limiter/bullmq"); if (!p.endsWith("dist/lib/bullmq/index.js")) throw new Error(p)'
echo 'nest-limiter/bullmq resolves through "exports"'

# The classic Nest tsconfig: module commonjs, node10 resolution (which ignores "exports"), TS 5,
# all three entry points, with bullmq installed now for nest-limiter/bullmq.
install "bullmq@$(node -p "require('$root/package.json').devDependencies.bullmq")"
cat > tsconfig.node10.json <<'JSON'
{ "compilerOptions": { "target": "ES2023", "module": "commonjs", "moduleResolution": "node10", "strict": true,
  "experimentalDecorators": true, "emitDecoratorMetadata": true, "skipLibCheck": false, "types": ["node"], "outDir": "out-node10" },
  "files": ["node10-app.ts"] }
JSON
node node_modules/typescript5/bin/tsc -p tsconfig.node10.json
node out-node10/node10-app.js
# TypeScript 6 deprecates node10 (TS5107) but still resolves the same way when told to go on.
node node_modules/typescript/bin/tsc -p tsconfig.node10.json --noEmit --ignoreDeprecations 6.0
echo "module: commonjs + node10 also compiles with TypeScript $(node -p "require('./node_modules/typescript/package.json').version") (ignoreDeprecations 6.0)"
# The check can fail: without "typesVersions" the subpaths do not resolve under node10.
node -e '
const fs = require("fs"), file = "node_modules/nest-limiter/package.json";
const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
if (!pkg.typesVersions) throw new Error("the packed package.json has no typesVersions");
delete pkg.typesVersions;
fs.writeFileSync(file, JSON.stringify(pkg));'
if node node_modules/typescript5/bin/tsc -p tsconfig.node10.json --noEmit > without.log; then
  echo 'node10 compiled without typesVersions: the check above proves nothing' >&2; exit 1
fi
grep -q "TS2307: Cannot find module 'nest-limiter/testing'" without.log
grep -q "TS2307: Cannot find module 'nest-limiter/bullmq'" without.log
echo 'without typesVersions, node10 fails as expected (TS2307 for nest-limiter/testing and nest-limiter/bullmq)'
