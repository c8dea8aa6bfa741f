// Every plugin the engine knows, in the order --help lists them.
import type { PluginDefinition } from '../backend/types.ts';
import { filePlugin } from './file/index.ts';
import { httpPlugin } from './http/index.ts';
import { memoryPlugin } from './memory/index.ts';
import { nbdPlugin } from './nbd/index.ts';
import { nullPlugin } from './null/index.ts';
import { patternPlugin } from './pattern/index.ts';
import { sparseRandomPlugin } from './sparse-random/index.ts';
import { dataPlugin } from './data/index.ts';
import { fullPlugin } from './full/index.ts';
import { randomPlugin } from './random/index.ts';
import { splitPlugin } from './split/index.ts';
import { tmpdiskPlugin } from './tmpdisk/index.ts';
import { zeroPlugin } from './zero/index.ts';
import { imagePlugins } from '../formats/index.ts';

export const plugins: readonly PluginDefinition[] = [
  filePlugin,
  httpPlugin,
  memoryPlugin,
  nbdPlugin,
  nullPlugin,
  patternPlugin,
  sparseRandomPlugin,
  dataPlugin,
  zeroPlugin,
  fullPlugin,
  randomPlugin,
  splitPlugin,
  tmpdiskPlugin,
  ...imagePlugins,
];
