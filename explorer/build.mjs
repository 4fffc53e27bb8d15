// Builds the explorer and the offline GraphiQL into the Python package (src/provgraph/api/explorer_static),
// which the service serves at / and /graphql. Asset names carry a content hash, so a browser never runs a
// stale script after an upgrade; the HTML pages are written with the hashed names and served uncached.
// A manifest records each asset's size (bytes and gzip) for bench/explorer.py.
import { build } from "esbuild";
import { gzipSync } from "node:zlib";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "provgraph", "api", "explorer_static");
const assets = join(out, "assets");

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, "src", "main.ts"), graphiql: join(here, "src", "graphiql.tsx") },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["chrome110", "firefox110", "safari16"],
  outdir: assets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  // Fonts and images the styles use travel inside the CSS: nothing is fetched from anywhere else.
  loader: { ".woff2": "dataurl", ".woff": "dataurl", ".svg": "dataurl", ".png": "dataurl" },
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "linked",
  metafile: true,
  logLevel: "warning",
});

const files = {};
for (const [path, output] of Object.entries(result.metafile.outputs)) {
  if (!output.entryPoint) continue;
  const name = output.entryPoint.endsWith("main.ts") ? "app" : "graphiql";
  files[name] = { js: basename(path), css: output.cssBundle ? basename(output.cssBundle) : null };
}

function page(template, entry) {
  const html = readFileSync(join(here, "src", template), "utf8")
    .replace("%CSS%", `/explorer/assets/${files[entry].css}`)
    .replace("%JS%", `/explorer/assets/${files[entry].js}`);
  writeFileSync(join(out, template), html);
}
page("index.html", "app");
page("graphiql.html", "graphiql");

const sizes = {};
for (const [entry, names] of Object.entries(files)) {
  sizes[entry] = {};
  for (const [kind, name] of Object.entries(names)) {
    if (!name) continue;
    const body = readFileSync(join(assets, name));
    sizes[entry][kind] = { file: name, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length };
  }
}
writeFileSync(join(out, "manifest.json"), JSON.stringify(sizes, null, 2) + "\n");
for (const [entry, kinds] of Object.entries(sizes)) {
  const line = Object.entries(kinds).map(([k, s]) => `${k} ${s.bytes.toLocaleString("en")} B (gzip ${s.gzip.toLocaleString("en")} B)`);
  console.log(`${entry}: ${line.join(", ")}`);
}
