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

/// The demo module, with what its boards' MicroPython needs in the page (board_client.js, which
/// starts the official port in a worker when a demo board boots MicroPython).
export async function loadDemo() {
  await import(new URL('board_client.js', document.baseURI).href);
  return loadModule('demo', 'webflash-demo');
}
