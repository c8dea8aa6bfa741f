// The image formats as plugins: one read-only plugin per entry of the format table
// (table.ts), in its order. `blockscope serve IMAGE`, `info` and `map` pick one by probing
// (detect.ts); an image nothing recognises is raw and served by the file plugin.
import type { PluginDefinition } from '../backend/types.ts';
import { defineImagePlugin } from './image-plugin.ts';
import { IMAGE_FORMATS } from './table.ts';

export const imagePlugins: readonly PluginDefinition[] = IMAGE_FORMATS.map(defineImagePlugin);

export function imagePlugin(name: string): PluginDefinition {
  const plugin = imagePlugins.find((p) => p.name === name);
  if (!plugin) throw new Error(`no image plugin named ${name}`);
  return plugin;
}
