// A fake File System Access API (`showDirectoryPicker`), shaped like the spec and Chromium, for a
// USB drive on the test side: a Pico's BOOTSEL drive (pico.mjs) over a WebSocket.
//
// Link protocol (page <-> test side), text frames as JSON:
//   test side -> page: {"type":"drive","present":true,"label":"RPI-RP2","files":{"INFO_UF2.TXT":"…",…}}
//                      or {"type":"drive","present":false} (the drive went away: the board rebooted)
//   page -> test side: binary frames, each one 512-byte sector of file data reaching the drive.
// Chromium writes a file through a swap file (`name.crswap`) whose sectors reach the drive as the
// OS flushes them, and renames it on close(): so sectors go out as writes fill them, and close()
// rejects with NotFoundError when the drive has gone meanwhile.
//
// Configuration from `globalThis.__fakeDriveConfig`: { url, picker?: "drive" | "folder" | "cancel",
// folder?: { name, files } } — "folder" is the user picking another folder (say, Documents).
(() => {
  const config = globalThis.__fakeDriveConfig;
  if (!config) return;
  const notFound = () => new DOMException("A requested file or directory could not be found at the time an operation was processed.", "NotFoundError");
  let drive = null;          // { label, files, generation }
  let generation = 0;
  const ws = new WebSocket(config.url);
  ws.binaryType = "arraybuffer";
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type !== "drive") return;
    generation += 1;
    drive = msg.present ? { label: msg.label, files: msg.files, generation } : null;
    (globalThis.__driveEvents ??= []).push(msg.present ? `+${msg.label}` : "-");
  };

  class FakeWritable {
    #file; #position = 0; #buffer = new Map(); #sent = new Set(); #closed = false; #gen; #top = 0;
    constructor(file) { this.#file = file; this.#gen = file.dir.generation; }
    #alive() { return this.#file.dir.isDrive ? drive && drive.generation === this.#gen : true; }
    async write(arg) {
      if (this.#closed) throw new TypeError("The stream is closed.");
      let data = arg, position = this.#position;
      if (arg && typeof arg === "object" && "type" in arg) {
        if (arg.type === "seek") { this.#position = arg.position; return; }
        if (arg.type === "truncate") return;
        data = arg.data;
        if (arg.position !== undefined) position = arg.position;
      }
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
        : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new TextEncoder().encode(String(data));
      for (let i = 0; i < bytes.length; i++) this.#buffer.set(position + i, bytes[i]);
      this.#position = position + bytes.length;
      this.#top = Math.max(this.#top, this.#position);
      this.#flush();
      (globalThis.__driveWrites ??= []).push(bytes.length);
    }
    /// Sends every complete 512-byte sector not sent yet (the OS flushing the swap file).
    #flush() {
      if (!this.#file.dir.isDrive || !this.#alive()) return;
      for (let s = 0; s + 512 <= this.#top; s += 512) {
        if (this.#sent.has(s)) continue;
        const sector = new Uint8Array(512);
        let full = true;
        for (let i = 0; i < 512; i++) {
          const b = this.#buffer.get(s + i);
          if (b === undefined) { full = false; break; }
          sector[i] = b;
        }
        if (!full) continue;
        this.#sent.add(s);
        ws.send(sector);
      }
    }
    async seek(position) { this.#position = position; }
    async truncate() {}
    async abort() { this.#closed = true; }
    async close() {
      this.#closed = true;
      // Chromium reads the swap file back (Safe Browsing) and renames it: the drive must still be there.
      await new Promise((r) => setTimeout(r, 50));
      if (!this.#alive()) throw notFound();
      this.#file.dir.files[this.#file.name] = "(written)";
    }
  }

  class FakeFileHandle {
    kind = "file";
    constructor(dir, name) { this.dir = dir; this.name = name; }
    async getFile() {
      if (this.dir.isDrive && !drive) throw notFound();
      return new File([this.dir.files[this.name] ?? ""], this.name);
    }
    async createWritable() {
      if (this.dir.isDrive && !drive) throw notFound();
      return new FakeWritable(this);
    }
    async queryPermission() { return "granted"; }
    async requestPermission() { return "granted"; }
    async isSameEntry(other) { return other === this; }
  }

  class FakeDirectoryHandle {
    kind = "directory";
    constructor(name, files, isDrive) { this.name = name; this.files = files; this.isDrive = isDrive; this.generation = drive?.generation; }
    async getFileHandle(name, options = {}) {
      if (this.isDrive && (!drive || drive.generation !== this.generation)) throw notFound();
      const existing = Object.keys(this.files).find((f) => f.toLowerCase() === name.toLowerCase());
      if (existing) return new FakeFileHandle(this, existing);
      if (!options.create) throw notFound();
      this.files[name] = "";
      return new FakeFileHandle(this, name);
    }
    async *entries() { for (const n of Object.keys(this.files)) yield [n, new FakeFileHandle(this, n)]; }
    async *values() { for (const n of Object.keys(this.files)) yield new FakeFileHandle(this, n); }
    async *keys() { for (const n of Object.keys(this.files)) yield n; }
    async queryPermission() { return "granted"; }
    async requestPermission() { return "granted"; }
  }

  window.showDirectoryPicker = async function showDirectoryPicker(options = {}) {
    if (!navigator.userActivation || !navigator.userActivation.isActive) {
      throw new DOMException("Must be handling a user gesture to show a file picker.", "SecurityError");
    }
    const picker = config.picker || "drive";
    (globalThis.__drivePicks ??= []).push(picker);
    if (picker === "cancel") throw new DOMException("The user aborted a request.", "AbortError");
    if (picker === "folder") {
      const folder = config.folder || { name: "Documents", files: { "notes.txt": "hello" } };
      return new FakeDirectoryHandle(folder.name, { ...folder.files }, false);
    }
    if (!drive) throw new DOMException("The user aborted a request.", "AbortError");
    return new FakeDirectoryHandle(drive.label, { ...drive.files }, true);
  };
})();
