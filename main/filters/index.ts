// Every filter the engine knows, in the order --help and the sidebar list them.
import type { FilterDefinition } from '../backend/types.ts';
import { cowFilter } from './cow/index.ts';
import { delayFilter } from './delay/index.ts';
import { errorFilter } from './error/index.ts';
import { ipFilter } from './ip/index.ts';
import { limitFilter } from './limit/index.ts';
import { noextentsFilter } from './noextents/index.ts';
import { offsetFilter } from './offset/index.ts';
import { partitionFilter } from './partition/index.ts';
import { readonlyFilter } from './readonly/index.ts';
import { statsFilter } from './stats/index.ts';
import { truncateFilter } from './truncate/index.ts';

export const filters: readonly FilterDefinition[] = [offsetFilter, partitionFilter, cowFilter, readonlyFilter, truncateFilter, noextentsFilter, delayFilter, errorFilter, statsFilter, ipFilter, limitFilter];
