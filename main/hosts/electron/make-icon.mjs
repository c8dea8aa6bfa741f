#!/usr/bin/env node
// Draws the app icon (an allocation map in a rounded square: data, zero and hole blocks in
// the map's colours) and writes it as PNG for electron-builder, which derives the .icns and
// .ico from it. Generated at packaging time so no binary lives in the repository.
//   node main/hosts/electron/make-icon.mjs [out/build-resources]
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

const SIZE = 512;
const BACKGROUND = [22, 24, 29];
const COLOURS = { data: [64, 132, 246], zero: [46, 184, 142], hole: [58, 62, 72] };
// 8x8 cells, read like a disk from the top left: a partition table, data, holes, zeroes.
const MAP = [
  'ddhhhhhh',
  'dddddhhh',
  'hhhzzzzh',
  'hdddddhh',
  'hhhhhhhh',
  'ddddzzzz',
  'hhhhddhh',
  'hhhhhhdd',
];

function pixels() {
  const rgba = Buffer.alloc(SIZE * SIZE * 4);
  const radius = 96;
  const margin = 64;
  const cell = (SIZE - 2 * margin) / 8;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = (y * SIZE + x) * 4;
      // Rounded-square mask: outside the corner circles is transparent.
      const cx = Math.min(Math.max(x, radius), SIZE - 1 - radius);
      const cy = Math.min(Math.max(y, radius), SIZE - 1 - radius);
      if ((x - cx) ** 2 + (y - cy) ** 2 > radius ** 2) continue;
      let colour = BACKGROUND;
      const gx = Math.floor((x - margin) / cell);
      const gy = Math.floor((y - margin) / cell);
      const inCell = (x - margin) % cell > 4 && (y - margin) % cell > 4;
      if (gx >= 0 && gx < 8 && gy >= 0 && gy < 8 && inCell) {
        const kind = MAP[gy][gx];
        colour = kind === 'd' ? COLOURS.data : kind === 'z' ? COLOURS.zero : COLOURS.hole;
      }
      rgba[i] = colour[0];
      rgba[i + 1] = colour[1];
      rgba[i + 2] = colour[2];
      rgba[i + 3] = 255;
    }
  }
  return rgba;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function iconPng() {
  const rgba = pixels();
  // Each scanline starts with filter type 0 (none).
  const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) rgba.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dir = process.argv[2] ?? path.join('out', 'build-resources');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'icon.png'), iconPng());
  console.log(`icon: ${path.join(dir, 'icon.png')}`);
}
