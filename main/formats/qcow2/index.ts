// qcow2 (v2 and v3) as a read-only plugin over its whole backing chain.
import { defineImagePlugin } from '../image-plugin.ts';
import type { ImageFormat } from '../index.ts';
import { isQcow2 } from './probe.ts';

export const qcow2Plugin = defineImagePlugin('qcow2', 'qcow2 image (v2/v3, with its backing chain), read-only');

export const qcow2Format: ImageFormat = { name: 'qcow2', plugin: qcow2Plugin, probe: (head) => isQcow2(head) };
