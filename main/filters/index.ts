// Every filter the engine knows, in the order --help and the sidebar list them.
import type { FilterDefinition } from '../backend/types.ts';
import { offsetFilter } from './offset/index.ts';

export const filters: readonly FilterDefinition[] = [offsetFilter];
