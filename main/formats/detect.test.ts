import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectImage } from './detect.ts';
import { qemuImg } from './qemu-oracle.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'bs-detect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('detectImage', () => {
  it('names each supported format qemu-img makes, and raw for anything else', async () => {
    const cases: [string, string, string][] = [['qcow2', 'qcow2', 'qcow2'], ['vmdk', 'vmdk', 'vmdk'], ['vpc', 'vhd', 'vhd'], ['vhdx', 'vhdx', 'vhdx'], ['vdi', 'vdi', 'vdi'], ['raw', 'raw', 'file']];
    for (const [qemuFormat, format, plugin] of cases) {
      const file = path.join(dir, `img.${qemuFormat}`);
      qemuImg('create', '-q', '-f', qemuFormat, file, '1M');
      expect(await detectImage(file), qemuFormat).toEqual({ format, plugin });
    }
  });

  it('refuses formats it recognises but does not read, by name', async () => {
    const qed = path.join(dir, 'img.qed');
    qemuImg('create', '-q', '-f', 'qed', qed, '1M');
    await expect(detectImage(qed)).rejects.toThrow(/img\.qed: QED images are not supported/);
    const cowd = path.join(dir, 'esx.vmdk');
    writeFileSync(cowd, Buffer.concat([Buffer.from('COWD'), Buffer.alloc(2044)]));
    await expect(detectImage(cowd)).rejects.toThrow(/esx\.vmdk: VMDK ESX sparse \(COWD\) images are not supported/);
    const parallels = path.join(dir, 'img.hdd');
    qemuImg('create', '-q', '-f', 'parallels', parallels, '1M');
    await expect(detectImage(parallels)).rejects.toThrow(/Parallels images are not supported/);
  });
});
