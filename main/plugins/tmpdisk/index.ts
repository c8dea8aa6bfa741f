// tmpdisk: a fresh disk for every client (nbdkit-tmpdisk-plugin). Each connection gets a new
// sparse file in $TMPDIR (else /var/tmp), formatted by mkfs or made by the user's command=,
// then served through the file plugin. The file is unlinked as soon as it is open, so it
// vanishes with the connection's fd even if the server is killed.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { BlockError, messageOf } from '../../backend/errors.ts';
import { definePlugin, type OpenOptions } from '../../backend/types.ts';
import { filePlugin } from '../file/index.ts';

const run = promisify(execFile);

/** mkfs's options for a label and for "yes, this plain file", per filesystem family. */
function mkfsArgs(type: string, label: string | undefined, disk: string): string[] {
  const fat = /fat$|^msdos$/.test(type);
  const force = type.startsWith('ext') ? ['-F'] : type === 'xfs' || type === 'btrfs' ? ['-f'] : type === 'ntfs' ? ['-Q', '-F'] : fat ? ['-I'] : [];
  const labelArgs = label === undefined ? [] : [fat ? '-n' : '-L', label];
  return ['-t', type, ...force, ...labelArgs, disk];
}

async function makeDisk(disk: string, size: number, params: { type: string; label?: string; command?: string }): Promise<void> {
  try {
    if (params.command !== undefined) {
      // As nbdkit: the fragment gets $disk and $size (and $type, $label) and must create $disk.
      const env = { ...process.env, disk, size: String(size), type: params.type, ...(params.label !== undefined ? { label: params.label } : {}) };
      await run('/bin/sh', ['-c', params.command], { env });
      return;
    }
    writeFileSync(disk, '');
    truncateSync(disk, size);
    await run('mkfs', mkfsArgs(params.type, params.label, disk), { env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new BlockError('EIO', `tmpdisk: making the disk failed: ${stderr || messageOf(err)}`);
  }
}

export const tmpdiskPlugin = definePlugin({
  name: 'tmpdisk',
  summary: 'a fresh temporary disk per client, formatted with mkfs (or made by command=)',
  magicKey: 'size',
  params: [
    { key: 'size', kind: 'size', required: true, description: 'virtual size, e.g. 16G (with command=, only a suggestion)' },
    { key: 'type', kind: 'string', default: 'ext4', description: 'filesystem for mkfs -t: ext4, xfs, vfat, btrfs, ntfs, ...' },
    { key: 'label', kind: 'string', description: 'filesystem label' },
    { key: 'command', kind: 'string', description: 'shell fragment that creates "$disk" (given $size, $type, $label) instead of mkfs' },
  ],
  create(params) {
    return {
      description: params.command !== undefined ? `tmpdisk by command, ${params.size} bytes` : `tmpdisk ${params.type} of ${params.size} bytes`,
      async open(options: OpenOptions) {
        const dir = mkdtempSync(path.join(process.env.TMPDIR || '/var/tmp', 'blockscope-tmpdisk-'));
        try {
          const disk = path.join(dir, 'disk');
          await makeDisk(disk, params.size, params);
          const instance = await filePlugin.create({ file: disk, fadvise: 'normal' });
          return await instance.open(options);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  },
});
