// Trunk post-build hook, on the staged page:
// 0. Each module's copy of the crate's JS snippets is written again from its source (see below).
// 1. What the page fetches is made small: index.html loses its comments and blank lines, and the
//    JS wasm-bindgen writes (each module's glue and the snippets it copies from src/web/) and the
//    stylesheet Trunk hashes are minified by esbuild (npm, pinned): comments and long names are for
//    this repository's readers, and the page fetches every byte of them before the first flash.
//    Their SRI hashes in index.html are written again.
// 2. the service worker (`sw.js`) is written with the list of every file of this deployment and a
//    version that is a digest of their paths and contents, so a new deployment is a new worker
//    with its own cache (src/web/sw.js says how it is used).
// Usage: node scripts/post-build.mjs [DIR] (default: $TRUNK_STAGING_DIR, else dist).
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = path.resolve(process.argv[2] || process.env.TRUNK_STAGING_DIR || path.join(root, "dist"));

function walk(d, prefix = "") {
  const out = [];
  for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix + e.name;
    if (e.name.startsWith(".")) continue;
    if (e.isDirectory()) out.push(...walk(path.join(d, e.name), rel + "/"));
    else if (rel !== "sw.js") out.push(rel);
  }
  return out;
}

const index = path.join(dir, "index.html");
if (!fs.existsSync(index)) throw new Error(`${dir} has no index.html: not a built page`);

// 0. Each wasm module's snippets (`<folder>/snippets/<crate>-<hash>/<path in this repository>`)
//    are written again from their source. Trunk builds the four modules at once and each
//    wasm-bindgen run rewrites the same `target/wasm-bindgen/release/snippets/` file while the
//    others copy it: on a clean build a module could ship an empty or half-written snippet, its
//    import then failing in the browser (seen in CI: the MicroPython card never loaded).
//    Each snippet a module's glue imports is written, present or not, and one without a
//    source in this repository must be there and not empty.
for (const glue of walk(dir).filter((f) => f.endsWith(".js") && fs.existsSync(path.join(dir, f.replace(/\.js$/, "_bg.wasm"))))) {
  const folder = path.dirname(glue);
  for (const [, snippet] of fs.readFileSync(path.join(dir, glue), "utf8").matchAll(/["']\.\/(snippets\/[^"']+)["']/g)) {
    const target = path.join(dir, folder, snippet);
    const source = path.join(root, snippet.replace(/^snippets\/[^/]+\//, ""));
    if (fs.existsSync(source)) {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(source, target);
    } else if (!fs.existsSync(target) || fs.statSync(target).size === 0) {
      throw new Error(`${glue} imports ${snippet}, which is missing or empty`);
    }
  }
}

let html = fs.readFileSync(index, "utf8").replace(/<!--[\s\S]*?-->/g, "").replace(/\n\s*(?=\n)/g, "");
// Trunk's outputs: the modules' wasm-bindgen glue (`<name>.js` beside `<name>_bg.wasm`), the
// snippets, and the hashed stylesheet. Files copied from npm or src/ as they are stay as they are.
const built = walk(dir).filter((f) =>
  (f.endsWith(".js") && (f.split("/").includes("snippets") || fs.existsSync(path.join(dir, f.replace(/\.js$/, "_bg.wasm"))))) ||
  /^main-[0-9a-f]+\.css$/.test(f));
for (const f of built) {
  const file = path.join(dir, f);
  const source = fs.readFileSync(file, "utf8");
  const lean = transformSync(source, { loader: f.endsWith(".css") ? "css" : "js", format: f.endsWith(".css") ? undefined : "esm", minify: true, legalComments: "none" }).code;
  fs.writeFileSync(file, lean);
  const sri = "sha384-" + crypto.createHash("sha384").update(lean).digest("base64");
  const href = f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  html = html.replace(new RegExp(`(href="\\./${href}"[^>]*integrity=")[^"]*`), `$1${sri}`);
}
fs.writeFileSync(index, html);

const files = walk(dir);
const digest = crypto.createHash("sha256");
for (const f of files) digest.update(f + "\0").update(fs.readFileSync(path.join(dir, f))).update("\0");
const version = digest.digest("hex").slice(0, 16);
const body = fs.readFileSync(path.join(root, "src/web/sw.js"), "utf8");
const head = `const VERSION = ${JSON.stringify(version)};\nconst FILES = ${JSON.stringify(files, null, 0)};\n`;
fs.writeFileSync(path.join(dir, "sw.js"), head + body);
console.log(`offline: sw.js lists ${files.length} files, version ${version}`);
