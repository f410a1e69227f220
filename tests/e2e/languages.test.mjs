// The page in the student's language (issue 16): every text of the sources has a translation in
// every language (scripts/i18n.mjs, over i18n/*.po), the page follows the browser's language and
// the switcher, numbers are written the language's way, and the whole demo journey in German
// leaves no English in what the page shows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, launchBrowser, openApp, screenshot, audit } from "./harness.mjs";
import { micropythonImage } from "./images.mjs";
import { extract, problems, readPo, places, LANGUAGES } from "../../scripts/i18n.mjs";

let server;
before(async () => { server = await startServer({}); });
after(async () => { await server?.close(); });

test("every text in the sources has a translation in every language, with the same places", () => {
  const ids = extract();
  // Each form the extractor knows is found (so an empty extraction cannot pass).
  for (const [id, file] of [
    ["Connect", "src/ui/connect.rs"],
    ["Found {chip}. Starting the flasher helper…", "src/ui/connect.rs"],
    ["Done", "src/journey.rs"],
    ["Language", "index.html"],
    ["Running a workshop? Make a handout with a link and a QR code.", "src/web/modules.js"],
  ]) assert.ok(ids.get(id)?.some((w) => w.startsWith(file)), `${JSON.stringify(id)} found in ${file}`);
  // Unit tests' texts are not page text.
  assert.ok(!ids.has("{b} then {a}, {c} and {a}"));
  for (const lang of LANGUAGES) assert.deepEqual(problems(lang, ids), [], `${lang}.po`);
});

test("a text without a translation, or a translation that lost a place, fails the check", () => {
  const ids = extract();
  const po = readPo("de");
  const untranslated = new Map([...ids, ["A text nobody translated yet", ["src/x.rs:1"]]]);
  assert.ok(problems("de", untranslated, po).some((p) => p.includes("no translation of \"A text nobody translated yet\"")));
  const [id] = [...ids.keys()].filter((k) => places(k) !== "");
  const broken = new Map(po);
  broken.set(id, { text: po.get(id).text.replace(/\{\w+\}/, "{oops}"), fuzzy: false });
  assert.ok(problems("de", ids, broken).some((p) => p.includes("has places")), `a lost place in ${id}`);
  const fuzzy = new Map(po);
  fuzzy.set("Connect", { text: po.get("Connect").text, fuzzy: true });
  assert.ok(problems("de", ids, fuzzy).some((p) => p.startsWith("de: fuzzy")));
});

/// Language `lang`'s translations, { english: translation }, from its PO file.
const catalogue = (lang) => Object.fromEntries([...readPo(lang)].map(([id, { text }]) => [id, text]));

/// What a person sees: the text of every visible element, and the accessible names and hints
/// (aria-label, title, placeholder) of visible elements. Not the board's own words: the
/// terminal (what MicroPython printed) and the fields that show what the board reported.
function visibleTexts(page) {
  return page.evaluate(() => {
    const board = ".xterm, [data-field=board], [data-field=running], [data-field=chip], [data-field=usb], [data-field=mac], [data-field=log], script, style";
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      const text = node.textContent.trim();
      if (!text || el.closest(board) || !el.checkVisibility()) continue;
      out.push(text);
    }
    for (const el of document.body.querySelectorAll("[aria-label], [title], [placeholder]")) {
      if (el.closest(board) || !el.checkVisibility()) continue;
      for (const a of ["aria-label", "title", "placeholder"]) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
    out.push(document.title);
    return out;
  });
}

/// The English left in `texts`: a whole text that is an English message (with its places
/// filled by anything), a longer English message inside a text, or common English words.
function englishIn(texts, translations) {
  // Messages with a word of their own (not "{list} and {next}": "and" is in the words below).
  const ids = [...extract().keys()].filter((id) => translations[id] && translations[id] !== id && /[a-z]{4}/i.test(id.replace(/\{\w+\}/g, "")));
  const pattern = (id) => id.split(/\{\w+\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".+?");
  const whole = ids.map((id) => [id, new RegExp(`^${pattern(id)}$`)]);
  const inside = ids.filter((id) => id.replace(/\{\w+\}/g, "").trim().split(/\s+/).length >= 3).map((id) => [id, new RegExp(pattern(id))]);
  // Words no German sentence has (product names never contain them).
  const words = /\b(the|and|your|with|from|this|that|you|press|choose|please|answered|verified|waiting|loading|starting|connect|connected|board's|files|written|erased)\b/i;
  const found = [];
  for (const text of texts) {
    const hit = whole.find(([, re]) => re.test(text)) || inside.find(([, re]) => re.test(text));
    if (hit) found.push(`${JSON.stringify(text)} is English (${JSON.stringify(hit[0])})`);
    else if (words.test(text)) found.push(`${JSON.stringify(text)} has the English word "${text.match(words)[0]}"`);
  }
  return found;
}

test("the whole demo journey in German: the browser's language, no English left, numbers the German way", async () => {
  const de = catalogue("de");
  const T = (en) => { assert.ok(de[en], `German for ${JSON.stringify(en)}`); return de[en]; };
  const browser = await launchBrowser({ locale: "de-DE" });
  try {
    const fetched = [];
    browser.context.on("request", (r) => { if (r.url().includes("/i18n/")) fetched.push(r.url().replace(/.*\/i18n\//, "")); });
    const page = await openApp(browser.context, server.url, { ports: [] });
    assert.equal(await page.evaluate(() => document.documentElement.lang), "de");
    // Only the page's own texts before the first flash; the card's come with the card.
    assert.deepEqual(fetched, ["de.json"]);
    assert.equal(await page.locator("#language").inputValue(), "de");
    const seen = [];
    const look = async (stage) => seen.push(...(await visibleTexts(page)).map((t) => [stage, t]));
    await look("start");
    // Step 1: the demo board, by its German names.
    await page.getByRole("button", { name: T("Demo board"), exact: true }).click();
    await page.getByRole("status").filter({ hasText: T("{chip} is ready. Choose the firmware.").replace("{chip}", "ESP32") }).waitFor({ timeout: 30000 });
    await look("connected");
    // Step 2: a MicroPython image over 1000 KB, whose size German writes as "1.0xx KB".
    const image = micropythonImage("esp32", "v1.24.1", 1_100_000);
    await page.getByLabel(T("Firmware file")).setInputFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: image });
    await page.locator('[data-step="flash"][data-open]').waitFor();
    await look("firmware chosen");
    await screenshot(page, "german-firmware-chosen");
    const kb = Math.ceil(image.length / 1024);
    assert.match(await page.locator('[data-step="firmware"] [data-field="step-summary"]').innerText(), new RegExp(`\\(${new Intl.NumberFormat("de").format(kb).replace(".", "\\.")} KB\\)`));
    // Step 3: flash, then the hello check.
    await page.getByRole("button", { name: T("Flash"), exact: true }).click();
    await page.locator('[data-step="micropython"][data-state="done"]').waitFor({ timeout: 180000 });
    await look("hello");
    await screenshot(page, "german-hello");
    // The German page is as accessible as the English one (axe also checks its lang="de").
    assert.deepEqual(await audit(page), [], "accessibility in German");
    assert.deepEqual(fetched, ["de.json", "de-repl.json"]);
    for (const step of ["connect", "firmware", "flash"]) {
      await page.locator(`[data-step="${step}"]`).getByRole("button", { name: T("Open step {n}").replace("{n}", String(["connect", "firmware", "flash"].indexOf(step) + 1)) }).click();
      await page.locator(`[data-step="${step}"][data-open]`).waitFor();
      await look(`step ${step} opened again`);
    }
    const english = englishIn(seen.map(([, t]) => t), de).map((e) => `${seen.find(([, t]) => e.startsWith(JSON.stringify(t)))?.[0]}: ${e}`);
    assert.deepEqual([...new Set(english)], []);
    // The automation contract does not change with the language.
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll("[data-step]")].map((s) => s.dataset.step)), ["connect", "firmware", "flash", "micropython"]);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await browser.close();
  }
});

test("the switcher changes the language and keeps it; ?lang= chooses one for a link", async () => {
  const browser = await launchBrowser({ locale: "de-DE" });
  try {
    const page = await openApp(browser.context, server.url, { ports: [] });
    const fr = catalogue("fr");
    const fetched = [];
    browser.context.on("request", (r) => { if (r.url().includes("/i18n/")) fetched.push(r.url().replace(/.*\/i18n\//, "")); });
    await Promise.all([page.waitForEvent("load"), page.locator("#language").selectOption("fr")]);
    await page.locator("#step-connect .mark").waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "fr");
    await page.getByRole("button", { name: fr["Demo board"], exact: true }).waitFor();
    // Kept: the next visit is French although the browser asks for German.
    await page.reload();
    await page.getByRole("button", { name: fr["Demo board"], exact: true }).waitFor();
    // English is one choice away, with the accessible names of the README.
    assert.ok(fetched.length > 0 && fetched.every((f) => f === "fr.json"), fetched.join());
    const before = fetched.length;
    await Promise.all([page.waitForEvent("load"), page.locator("#language").selectOption("en")]);
    await page.getByRole("button", { name: "Demo board", exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
    // An English page fetches no translation.
    assert.equal(fetched.length, before);
    // A workshop link may carry its language.
    await page.goto(`${server.url}?lang=es`);
    await page.getByRole("button", { name: catalogue("es")["Demo board"], exact: true }).waitFor();
    assert.equal(await page.locator("#language").inputValue(), "es");
    // With a board connected, changing the language (a reload) asks first: declined, nothing
    // changes and the board stays connected.
    const es = catalogue("es");
    await page.getByRole("button", { name: es["Demo board"], exact: true }).click();
    await page.getByRole("status").filter({ hasText: es["{chip} is ready. Choose the firmware."].replace("{chip}", "ESP32") }).waitFor({ timeout: 30000 });
    const asked = [];
    page.once("dialog", (d) => { asked.push(d.message()); d.dismiss(); });
    await page.locator("#language").selectOption("de");
    await page.waitForTimeout(300);
    assert.deepEqual(asked, [es["The page reloads in the new language, and the board is disconnected. Change the language now?"]]);
    assert.equal(await page.locator("#language").inputValue(), "es");
    assert.equal(await page.evaluate(() => window.webflash.port.connected()), true);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await browser.close();
  }
});

test("a handout may open the page in its language for every student", async () => {
  const browser = await launchBrowser({ locale: "en-US" });
  try {
    const de = catalogue("de");
    const page = await openApp(browser.context, `${server.url}?organiser&lang=de`, { ports: [] });
    await page.getByLabel(de["Firmware files"]).setInputFiles({ name: "micropython.bin", mimeType: "application/octet-stream", buffer: micropythonImage("esp32", "v1.24.1") });
    const link = page.getByLabel(de["Handout link"]);
    await link.waitFor();
    // By default each student's browser decides.
    assert.doesNotMatch(await link.inputValue(), /lang=/);
    const label = de["Open the page in {language} for every student (else each browser's language decides; the handout is in {language})"].replaceAll("{language}", "Deutsch");
    await page.getByLabel(label).check();
    const url = await link.inputValue();
    assert.match(url, /\?manifest=[^&]+&lang=de$/);
    // Opened in an English browser, the handout's link shows the page in German.
    await page.goto(url);
    await page.locator("#step-connect .mark").waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "de");
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await browser.close();
  }
});
