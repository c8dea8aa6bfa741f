// The engine's registry of every plugin and filter.
import { Registry } from './backend/registry.ts';
import { filters } from './filters/index.ts';
import { plugins } from './plugins/index.ts';

export const registry = new Registry(plugins, filters);
