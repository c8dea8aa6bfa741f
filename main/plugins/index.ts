// Every plugin the engine knows, in the order --help lists them.
import type { PluginDefinition } from '../backend/types.ts';
import { memoryPlugin } from './memory/index.ts';

export const plugins: readonly PluginDefinition[] = [memoryPlugin];
