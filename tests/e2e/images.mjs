// Builds valid ESP firmware images for the browser tests (header, extended header, segments,
// checksum, SHA-256), following the format in esp-protocol.md §11.
import crypto from "node:crypto";
import { patternBytes } from "./harness.mjs";

export const CHIP_IDS = { esp32: 0, esp32s2: 2, esp32c3: 5, esp32s3: 9, esp32c2: 12, esp32c6: 13, esp32h2: 16 };
export const BOOT_OFFSET = { esp8266: 0x0, esp32: 0x1000, esp32s2: 0x1000, esp32c3: 0x0, esp32s3: 0x0 };

/// An image for `chip` with `size` bytes of segment data. `app: true` adds an ESP-IDF app
/// descriptor (so it belongs at 0x10000). The header says 4 MB flash so no patch is needed.
export function espImage(chip, size, { app = false, seed = 1 } = {}) {
  const esp8266 = chip === "esp8266";
  const data = patternBytes(Math.ceil(size / 4) * 4, seed);
  if (app) data.writeUInt32LE(0xabcd5432, 0);
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
