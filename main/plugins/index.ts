// Every plugin the engine knows, in the order --help lists them.
import type { PluginDefinition } from '../backend/types.ts';
import { filePlugin } from './file/index.ts';
import { memoryPlugin } from './memory/index.ts';
import { nbdPlugin } from './nbd/index.ts';
import { nullPlugin } from './null/index.ts';
import { patternPlugin } from './pattern/index.ts';
import { sparseRandomPlugin } from './sparse-random/index.ts';
import { imagePlugins } from '../formats/index.ts';

export const plugins: readonly PluginDefinition[] = [
  filePlugin,
  memoryPlugin,
  nbdPlugin,
  nullPlugin,
  patternPlugin,
  sparseRandomPlugin,
  ...imagePlugins,
];
