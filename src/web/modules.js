// Loads one of the page's optional wasm modules (built by Trunk into its own folder, see
// index.html) the first time it is needed, relative to the page so a copy in a sub-folder works.
const loaded = new Map();

export function loadModule(folder, name) {
  if (!loaded.has(name)) {
    const url = new URL(`${folder}/${name}.js`, document.baseURI).href;
    const promise = import(url).then(async (m) => {
      await m.default();
      return m;
    });
    promise.catch(() => loaded.delete(name)); // a failed download may be retried
    loaded.set(name, promise);
  }
  return loaded.get(name);
}

/// The demo boards' JS (`demo_pico.js`, which imports `demo_port.js`; copied beside the page),
/// fetched the first time a demo board is opened: a student with a real board never loads it.
let demoBoards = null;
function boards() {
  demoBoards ??= import(new URL('demo_pico.js', document.baseURI).href);
  demoBoards.catch(() => { demoBoards = null; });
  return demoBoards;
}
let opened = null; // the demo boards' module once loaded, for the synchronous queries below

export async function openDemoPort(chip) { opened = await boards(); return opened.openDemoPort(chip); }
export async function openDemoPico() { opened = await boards(); return opened.openDemoPico(); }
export async function openDemoPyboard() { opened = await boards(); return opened.openDemoPyboard(); }
// No demo board was opened yet: none of them exists.
export function demoUsbDevice() { return opened ? opened.demoUsbDevice() : null; }
export function demoPicoPort() { return opened ? opened.demoPicoPort() : null; }
export function demoPicoDrive() { return opened ? opened.demoPicoDrive() : null; }
