#!/usr/bin/env bash
# Packs nest-limiter, installs the tarball into a scratch Nest app outside the repo, compiles the
# app against the package's types and runs it: proves `npm pack` yields a usable package.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$root"
npm run build >/dev/null
tarball=$(npm pack --silent --pack-destination "$scratch" | tail -n 1)
cd "$scratch"
node -e '
const root = require(process.argv[1] + "/package.json");
const dev = root.devDependencies;
const pick = (n) => [n, dev[n]];
require("fs").writeFileSync("package.json", JSON.stringify({
  name: "scratch-app", private: true,
  dependencies: Object.fromEntries([
    ["nest-limiter", "file:./" + process.argv[2]],
    ...["@nestjs/common", "@nestjs/core", "@nestjs/platform-express", "reflect-metadata", "rxjs", "typescript", "@types/node"].map(pick),
  ]),
  overrides: root.overrides,
}, null, 2));' "$root" "$tarball"
cp "$root/test/pack/app.ts" .
npm install --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2023", "module": "nodenext", "moduleResolution": "nodenext", "strict": true,
  "experimentalDecorators": true, "emitDecoratorMetadata": true, "skipLibCheck": false, "types": ["node"], "outDir": "out" },
  "files": ["app.ts"] }
JSON
npx tsc -p tsconfig.json
node out/app.js
# The optional BullMQ entry point: resolvable through "exports", with its types, while the app
# above ran without bullmq installed (nest-limiter itself never loads it).
test -f node_modules/nest-limiter/dist/lib/bullmq/index.d.ts
node -e 'const p = require.resolve("nest-limiter/bullmq"); if (!p.endsWith("dist/lib/bullmq/index.js")) throw new Error(p)'
echo 'nest-limiter/bullmq resolves through "exports"'
