// The vmdk plugin, made from the format's table entry (format.ts) like every image plugin.
import { imagePlugin } from '../index.ts';

export const vmdkPlugin = imagePlugin('vmdk');
