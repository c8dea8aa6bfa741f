// The vhdx plugin, made from the format's table entry (format.ts) like every image plugin.
import { imagePlugin } from '../index.ts';

export const vhdxPlugin = imagePlugin('vhdx');
