// Builds valid ESP firmware images for the browser tests (header, extended header, segments,
// checksum, SHA-256), following the format in esp-protocol.md §11.
import crypto from "node:crypto";
import { patternBytes } from "./harness.mjs";

export const CHIP_IDS = { esp32: 0, esp32s2: 2, esp32c3: 5, esp32s3: 9, esp32c2: 12, esp32c6: 13, esp32h2: 16 };
export const BOOT_OFFSET = { esp8266: 0x0, esp32: 0x1000, esp32s2: 0x1000, esp32c3: 0x0, esp32s3: 0x0 };

/// An image for `chip` with `size` bytes of segment data. `app: true` adds an ESP-IDF app
/// descriptor (so it belongs at 0x10000). The header says 4 MB flash so no patch is needed.
export function espImage(chip, size, { app = false, seed = 1, runs = false, desc = null } = {}) {
  const esp8266 = chip === "esp8266";
  const data = patternBytes(Math.ceil(size / 4) * 4, seed);
  // `runs`: firmware-like compressibility (repeated bytes between noise), about half size deflated.
  if (runs) for (let i = 0; i + 64 < data.length; i += 97) data.fill(data[i], i, i + 48);
  if (app) data.writeUInt32LE(0xabcd5432, 0);
  if (desc) {
    // esp_app_desc_t: magic, secure_version, reserved[2], version[32], project_name[32], ...
    data.fill(0, 4, 112);
    data.write(desc.version, 16, "latin1");
    data.write(desc.project, 48, "latin1");
  }
  const segments = [[0x3f400020, data.subarray(0, data.length >> 1)], [0x40080000, data.subarray(data.length >> 1)]];
  const header = Buffer.alloc(8);
  header[0] = 0xe9;
  header[1] = segments.length;
  header[2] = 0x02; // DIO
  header[3] = esp8266 ? 0x40 : 0x20; // 4 MB, 40 MHz
  header.writeUInt32LE(0x40080400, 4);
  const parts = [header];
  if (!esp8266) {
    const ext = Buffer.alloc(16);
    ext[0] = 0xee;
    ext.writeUInt16LE(CHIP_IDS[chip], 4);
    ext.writeUInt16LE(0, 7); // min rev
    ext.writeUInt16LE(0xffff, 9); // max rev: any
    ext[15] = 1; // SHA-256 appended
    parts.push(ext);
  }
  let checksum = 0xef;
  for (const [addr, bytes] of segments) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(addr, 0);
    h.writeUInt32LE(bytes.length, 4);
    parts.push(h, bytes);
    for (const b of bytes) checksum ^= b;
  }
  let body = Buffer.concat(parts);
  const pad = (15 - (body.length % 16) + 16) % 16;
  body = Buffer.concat([body, Buffer.alloc(pad), Buffer.from([checksum])]);
  if (!esp8266) body = Buffer.concat([body, crypto.createHash("sha256").update(body).digest()]);
  return body;
}

export const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

/// ESP8266 images have no SHA-256, only the XOR checksum: recompute it after editing segment data.
function espImageFix(img, chip) {
  if (chip !== "esp8266") return img;
  let off = 8, checksum = 0xef;
  for (let i = 0; i < img[1]; i++) {
    const len = img.readUInt32LE(off + 4);
    for (const b of img.subarray(off + 8, off + 8 + len)) checksum ^= b;
    off += 8 + len;
  }
  const pad = (15 - (off % 16) + 16) % 16;
  img[off + pad] = checksum;
  return img;
}

/// An ESP-IDF partition table (0xC00 bytes at flash 0x8000): rows of
/// [type, subtype, offset, size, label], then the MD5 row, then 0xFF.
export function partitionTable(rows) {
  const entries = rows.map(([type, subtype, offset, size, label]) => {
    const e = Buffer.alloc(32);
    e.writeUInt16LE(0x50aa, 0);
    e[2] = type; e[3] = subtype;
    e.writeUInt32LE(offset, 4); e.writeUInt32LE(size, 8);
    e.write(label, 12, "latin1");
    return e;
  });
  const body = Buffer.concat(entries);
  const md5 = Buffer.concat([Buffer.from([0xeb, 0xeb]), Buffer.alloc(14, 0xff),
    crypto.createHash("md5").update(body).digest()]);
  const table = Buffer.concat([body, md5]);
  return Buffer.concat([table, Buffer.alloc(0xc00 - table.length, 0xff)]);
}

/// MicroPython's table since 1.26 (`partitions-4MiBplus.csv`): nvs, phy_init, factory; the
/// filesystem takes the flash after it. `vfs: [offset, size]` adds 1.22–1.25's vfs row.
export function micropythonTable({ factory = 0x1f0000, vfs = null } = {}) {
  const rows = [[1, 2, 0x9000, 0x6000, "nvs"], [1, 1, 0xf000, 0x1000, "phy_init"], [0, 0, 0x10000, factory, "factory"]];
  if (vfs) rows.push([1, 0x81, vfs[0], vfs[1], "vfs"]);
  return partitionTable(rows);
}

/// A merged MicroPython-like firmware for `chip` (flashed at its bootloader offset), laid out
/// as MicroPython's `firmware.bin`: a small bootloader image, the partition table at flash
/// 0x8000, then at 0x10000 an app image whose ESP-IDF app descriptor says project
/// "micropython" and `version`. ESP8266 images carry the version string instead.
export function micropythonImage(chip, version = "v1.24.1", appSize = 120_000, table = micropythonTable()) {
  return firmwareImage(chip, { project: "micropython", version, appSize, table });
}

/// The same layout for any ESP-IDF project (`project` in the app descriptor).
export function firmwareImage(chip, { project, version = "v1.0.0", appSize = 120_000, table = micropythonTable() }) {
  const boot = BOOT_OFFSET[chip];
  if (chip === "esp8266") {
    const img = espImage(chip, appSize, { seed: 31 });
    const banner = Buffer.from(`MicroPython ${version} on 2024-11-29; ESP module with ESP8266`);
    banner.copy(img, 0x100 + 8); // inside the first segment's data
    return espImageFix(img, chip);
  }
  const bootloader = espImage(chip, 20_000, { seed: 29 });
  const app = espImage(chip, appSize, { seed: 30, app: true, desc: { version, project } });
  const flash = Buffer.alloc(0x10000 - boot + app.length, 0xff);
  bootloader.copy(flash, 0);
  table.copy(flash, 0x8000 - boot);
  app.copy(flash, 0x10000 - boot);
  return flash;
}
