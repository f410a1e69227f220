// Loads one of the page's optional wasm modules (built beside the app by Trunk, see
// index.html) the first time it is needed, relative to the page so a copy in a sub-folder works.
const loaded = new Map();

export function loadModule(name) {
  if (!loaded.has(name)) {
    const url = new URL(`${name}.js`, document.baseURI).href;
    const promise = import(url).then(async (m) => {
      await m.default();
      return m;
    });
    promise.catch(() => loaded.delete(name)); // a failed download may be retried
    loaded.set(name, promise);
  }
  return loaded.get(name);
}
