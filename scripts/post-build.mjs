// Trunk post-build hook, on the staged page:
// 0. Each module's copy of the crate's JS snippets is written again from its source (see below).
// 1. What the page fetches is made small: index.html loses its comments and blank lines, and the
//    JS wasm-bindgen writes (each module's glue and the snippets it copies from src/web/) and the
//    stylesheet Trunk hashes are minified by esbuild (npm, pinned): comments and long names are for
//    this repository's readers, and the page fetches every byte of them before the first flash.
//    Their SRI hashes in index.html are written again. Each module's wasm loses exports no code
//    calls (1b below), and is optimised again by wasm-opt (npm binaryen, pinned).
//    The translations (i18n/<lang>.json) are written from i18n/<lang>.po (scripts/i18n.mjs).
// 2. the service worker (`sw.js`) is written with the list of every file of this deployment and a
//    version that is a digest of their paths and contents, so a new deployment is a new worker
//    with its own cache (src/web/sw.js says how it is used).
// Usage: node scripts/post-build.mjs [DIR] (default: $TRUNK_STAGING_DIR, else dist).
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { execFileSync } from "node:child_process";

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

// 1b. Each module's wasm loses the exports no page code calls: leptos's server_fn brings
//     wasm-streams, whose JS stream adapters (`IntoUnderlyingSource`, `…ByteSource`, `…Sink`)
//     wasm-bindgen exports from every module and so keeps, with their code. Without the exports
//     wasm-opt drops that code (1.2 KB gzip of the app). Their JS classes stay in the glue,
//     unused: they reach the wasm only from instances, and none is ever made.
const unused = /^(__wbg_)?intounderlying/;
for (const f of walk(dir).filter((f) => f.endsWith("_bg.wasm"))) {
  const file = path.join(dir, f);
  const lean = withoutExports(fs.readFileSync(file), unused);
  if (!lean) continue;
  const tmp = `${file}.strip.wasm`;
  fs.writeFileSync(tmp, lean);
  execFileSync(path.join(root, "node_modules/.bin/wasm-opt"), ["-Oz", tmp, "-o", file]);
  fs.rmSync(tmp);
  const sri = "sha384-" + crypto.createHash("sha384").update(fs.readFileSync(file)).digest("base64");
  const href = f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  html = html.replace(new RegExp(`(href="\\./${href}"[^>]*integrity=")[^"]*`), `$1${sri}`);
}
fs.writeFileSync(index, html);

/// `wasm` without the exports whose names match `pattern`, or null when none does.
function withoutExports(wasm, pattern) {
  const leb = (at) => { let n = 0, shift = 0, b; do { b = wasm[at++]; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return [n, at]; };
  const uleb = (n) => { const out = []; do { let b = n & 0x7f; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n); return Buffer.from(out); };
  const parts = [wasm.subarray(0, 8)];
  let removed = 0;
  for (let at = 8; at < wasm.length;) {
    const id = wasm[at];
    const [size, body] = leb(at + 1);
    let section = wasm.subarray(at, body + size);
    if (id === 7) {
      let [count, p] = leb(body);
      const kept = [];
      for (let i = 0; i < count; i++) {
        const start = p;
        const [len, name] = leb(p);
        const [, next] = leb(name + len + 1);
        if (pattern.test(wasm.subarray(name, name + len).toString())) removed++;
        else kept.push(wasm.subarray(start, next));
        p = next;
      }
      const content = Buffer.concat([uleb(kept.length), ...kept]);
      section = Buffer.concat([Buffer.from([7]), uleb(content.length), content]);
    }
    parts.push(section);
    at = body + size;
  }
  return removed ? Buffer.concat(parts) : null;
}

// 1c. The translations the page fetches when it is not English (scripts/i18n.mjs, from i18n/*.po).
execFileSync(process.execPath, [path.join(root, "scripts/i18n.mjs"), "json", path.join(dir, "i18n")], { stdio: "inherit" });

const files = walk(dir);
const digest = crypto.createHash("sha256");
for (const f of files) digest.update(f + "\0").update(fs.readFileSync(path.join(dir, f))).update("\0");
const version = digest.digest("hex").slice(0, 16);
const body = fs.readFileSync(path.join(root, "src/web/sw.js"), "utf8");
const head = `const VERSION = ${JSON.stringify(version)};\nconst FILES = ${JSON.stringify(files, null, 0)};\n`;
fs.writeFileSync(path.join(dir, "sw.js"), head + body);
console.log(`offline: sw.js lists ${files.length} files, version ${version}`);
