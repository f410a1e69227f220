// The page's translations (src/i18n.rs says how they are used).
//
// The English text in the sources is the message id (the gettext convention). This script finds
// every id, the way xgettext would for our forms: Rust `t("…")`, `mark("…")`, `tf!("…", …)`;
// JS `t("…")`; index.html elements marked `data-t`. The translations are gettext PO files,
// `i18n/<lang>.po`, read with gettext-parser (npm, pinned).
//
//   node scripts/i18n.mjs update        adds new ids to every PO file (empty, to translate) and
//                                       drops ids the sources no longer have; writes the template
//                                       i18n/webflash.pot
//   node scripts/i18n.mjs check         lists every id without a translation, with a fuzzy one, or
//                                       whose translation lost or gained a {place}; exits 1 if any
//   node scripts/i18n.mjs missing LANG  the ids LANG has no translation for (JSON, for a translator)
//   node scripts/i18n.mjs merge LANG F  takes the translations of JSON file F ({ english: text })
//   node scripts/i18n.mjs json OUTDIR   writes what the page fetches (scripts/post-build.mjs calls
//                                       it): OUTDIR/<lang>.json, the page's texts, before it starts;
//                                       <lang>-repl.json and <lang>-tools.json with those modules;
//                                       each { key: translation }, the key a hash of the English
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import gettextParser from "gettext-parser";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const LANGUAGES = ["de", "es", "fr"]; // besides English, which is in the sources

// Not page code: the simulators and the native tools never show a text on the page.
const SKIP = /^src\/(sim\/|bin\/(esp_sim|picoboot_sim|bench|faults)\/|fuzzing\.rs)|_tests\.rs$|(^|\/)tests\.rs$/;

function sources(dir = "src", out = []) {
  for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) sources(rel, out);
    else if (/\.(rs|js|mjs)$/.test(e.name) && !SKIP.test(rel)) out.push(rel);
  }
  return out.sort();
}

/// A Rust or JS string literal's body as the running program sees it.
function unescape(body) {
  return body
    .replace(/\\\n\s*/g, "")
    .replace(/\\u\{([0-9a-fA-F]+)\}/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/\\(.)/g, (_, c) => ({ n: "\n", t: "\t", r: "\r", 0: "\0" })[c] ?? c);
}

const LITERAL = String.raw`"((?:[^"\\]|\\[\s\S])*)"`;
const RUST = new RegExp(String.raw`(?:(?<![\w.])(?:t|mark)\(|\btf!\()\s*` + LITERAL, "g");
const JS = new RegExp(String.raw`(?<![\w.])t\(\s*` + LITERAL, "g");
const HTML = /<(\w+)\b[^>]*\sdata-t\b[^>]*>([^<]*)</g;

/// Every message id, in source order, with where it is used: Map(id → ["file:line", …]).
export function extract() {
  const ids = new Map();
  const add = (id, file, text, at) => {
    const line = text.slice(0, at).split("\n").length;
    if (!ids.has(id)) ids.set(id, []);
    ids.get(id).push(`${file}:${line}`);
  };
  for (const file of sources()) {
    // Comment lines (doc comments show the forms) are not texts; blanked to keep line numbers.
    let text = fs.readFileSync(path.join(root, file), "utf8").replace(/^[ \t]*\/\/.*$/gm, "");
    if (file.endsWith(".rs")) {
      // A file's unit tests (at its end) are not page text.
      const tests = text.search(/#\[cfg\(test\)\]\s*mod \w+/);
      if (tests >= 0) text = text.slice(0, tests);
    }
    for (const m of text.matchAll(file.endsWith(".rs") ? RUST : JS)) add(unescape(m[1]), file, text, m.index);
  }
  const html = fs.readFileSync(path.join(root, "index.html"), "utf8");
  for (const m of html.matchAll(HTML)) add(m[2].trim(), "index.html", html, m.index);
  return ids;
}

/// The `{place}` names of a text, sorted.
export const places = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");

const poPath = (lang) => path.join(root, "i18n", `${lang}.po`);

/// A PO file's translations: Map(id → { text, fuzzy }).
export function readPo(lang) {
  const po = gettextParser.po.parse(fs.readFileSync(poPath(lang)));
  const out = new Map();
  for (const [id, entry] of Object.entries(po.translations[""] || {})) {
    if (id === "") continue;
    out.set(id, { text: entry.msgstr[0] || "", fuzzy: /\bfuzzy\b/.test(entry.comments?.flag || "") });
  }
  return out;
}

/// What is wrong with `lang`'s translations of `ids`: a list of one-line problems.
export function problems(lang, ids = extract(), po = readPo(lang)) {
  const out = [];
  for (const [id, where] of ids) {
    const tr = po.get(id);
    if (!tr || !tr.text) out.push(`${lang}: no translation of ${JSON.stringify(id)} (${where[0]})`);
    else if (tr.fuzzy) out.push(`${lang}: fuzzy translation of ${JSON.stringify(id)} (${where[0]})`);
    else if (places(tr.text) !== places(id))
      out.push(`${lang}: the translation of ${JSON.stringify(id)} has places {${places(tr.text)}}, not {${places(id)}}`);
  }
  for (const id of po.keys()) if (!ids.has(id)) out.push(`${lang}: ${JSON.stringify(id)} is no longer in the sources (run: node scripts/i18n.mjs update)`);
  return out;
}

function update() {
  const ids = extract();
  const entries = (lang) => {
    const po = lang ? readPo(lang) : new Map();
    const translations = { "": { "": { msgid: "", msgstr: [""] } } };
    for (const [id, where] of ids) {
      const old = po.get(id);
      translations[""][id] = {
        msgid: id,
        msgstr: [old?.text || ""],
        comments: { reference: where.join(" "), ...(old?.fuzzy ? { flag: "fuzzy" } : {}) },
      };
    }
    return translations;
  };
  const headers = (lang) => ({
    "Project-Id-Version": "webflash",
    ...(lang ? { Language: lang } : {}),
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
  });
  fs.mkdirSync(path.join(root, "i18n"), { recursive: true });
  fs.writeFileSync(path.join(root, "i18n", "webflash.pot"), gettextParser.po.compile({ charset: "utf-8", headers: headers(), translations: entries(null) }, { foldLength: 0 }));
  for (const lang of LANGUAGES) {
    if (!fs.existsSync(poPath(lang))) fs.writeFileSync(poPath(lang), "");
    fs.writeFileSync(poPath(lang), gettextParser.po.compile({ charset: "utf-8", headers: headers(lang), translations: entries(lang) }, { foldLength: 0 }));
  }
  console.log(`i18n: ${ids.size} texts; i18n/webflash.pot and ${LANGUAGES.map((l) => `${l}.po`).join(", ")} updated`);
}

/// The key of a text in the page's catalogues: FNV-1a (32 bits) of its UTF-8, in base 36, as
/// src/web/modules.js computes it (`textKey`): a few bytes instead of the English sentence.
export function textKey(text) {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, "utf8")) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(36);
}

/// Which catalogue a text goes in: `repl` (fetched with the MicroPython card) or `tools` (with the
/// organisers' tools) when only that module shows it, else the page's, fetched before it starts.
function part(where) {
  const of = (file) => /^src\/(ui|bin)\/repl\//.test(file) ? "repl" : /^src\/(ui|bin)\/tools\//.test(file) ? "tools" : "page";
  const parts = new Set(where.map((w) => of(w.split(":")[0])));
  return parts.size === 1 ? [...parts][0] : "page";
}

/// Writes OUTDIR/<lang>.json (the page's texts) and <lang>-repl.json, <lang>-tools.json.
function json(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const ids = extract();
  const keys = new Map();
  for (const id of ids.keys()) {
    const key = textKey(id);
    if (keys.has(key)) throw new Error(`i18n: ${JSON.stringify(id)} and ${JSON.stringify(keys.get(key))} have the same key ${key}: reword one`);
    keys.set(key, id);
  }
  for (const lang of LANGUAGES) {
    const po = readPo(lang);
    const out = { page: {}, repl: {}, tools: {} };
    for (const [id, where] of ids) {
      const tr = po.get(id);
      if (tr?.text && !tr.fuzzy) out[part(where)][textKey(id)] = tr.text;
    }
    for (const [name, messages] of Object.entries(out))
      fs.writeFileSync(path.join(outDir, name === "page" ? `${lang}.json` : `${lang}-${name}.json`), JSON.stringify(messages));
  }
}

/// The ids `lang` has no translation for yet, as a JSON list (for a translator).
function missing(lang) {
  const po = readPo(lang);
  const ids = [...extract()].filter(([id]) => !po.get(id)?.text || po.get(id).fuzzy);
  console.log(JSON.stringify(ids.map(([id, where]) => ({ id, where: where[0] })), null, 1));
}

/// Takes translations from a JSON file ({ english: translation }) into `lang`'s PO file.
function merge(lang, file) {
  const given = JSON.parse(fs.readFileSync(file, "utf8"));
  const po = gettextParser.po.parse(fs.readFileSync(poPath(lang)));
  let n = 0;
  for (const [id, text] of Object.entries(given)) {
    const entry = po.translations[""][id];
    if (!entry || typeof text !== "string" || !text) continue;
    entry.msgstr = [text];
    if (entry.comments?.flag) delete entry.comments.flag;
    n++;
  }
  fs.writeFileSync(poPath(lang), gettextParser.po.compile(po, { foldLength: 0 }));
  console.log(`i18n: ${n} translations merged into i18n/${lang}.po`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, arg, arg2] = process.argv.slice(2);
  if (command === "update") update();
  else if (command === "missing" && arg) missing(arg);
  else if (command === "merge" && arg && arg2) merge(arg, arg2);
  else if (command === "json" && arg) json(path.resolve(arg));
  else if (command === "check") {
    const ids = extract();
    const found = LANGUAGES.flatMap((lang) => problems(lang, ids));
    for (const p of found) console.log(p);
    console.log(`i18n: ${ids.size} texts, ${LANGUAGES.length} languages, ${found.length} problems`);
    process.exit(found.length ? 1 : 0);
  } else {
    console.error("usage: node scripts/i18n.mjs update | check | missing LANG | merge LANG FILE | json OUTDIR");
    process.exit(2);
  }
}
