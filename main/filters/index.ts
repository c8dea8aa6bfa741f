// Every filter the engine knows, in the order --help and the sidebar list them.
import type { FilterDefinition } from '../backend/types.ts';
import { blocksizeFilter } from './blocksize/index.ts';
import { blocksizePolicyFilter } from './blocksize-policy/index.ts';
import { checkwriteFilter } from './checkwrite/index.ts';
import { fuaFilter } from './fua/index.ts';
import { multiConnFilter } from './multi-conn/index.ts';
import { nocacheFilter } from './nocache/index.ts';
import { noparallelFilter } from './noparallel/index.ts';
import { nozeroFilter } from './nozero/index.ts';
import { protectFilter } from './protect/index.ts';
import { swabFilter } from './swab/index.ts';
import { cacheFilter } from './cache/index.ts';
import { cacheextentsFilter } from './cacheextents/index.ts';
import { cowFilter } from './cow/index.ts';
import { delayFilter } from './delay/index.ts';
import { errorFilter } from './error/index.ts';
import { exitlastFilter } from './exitlast/index.ts';
import { exitwhenFilter } from './exitwhen/index.ts';
import { extentlistFilter } from './extentlist/index.ts';
import { gzipFilter } from './gzip/index.ts';
import { xzFilter } from './xz/index.ts';
import { ipFilter } from './ip/index.ts';
import { limitFilter } from './limit/index.ts';
import { logFilter } from './log/index.ts';
import { noextentsFilter } from './noextents/index.ts';
import { offsetFilter } from './offset/index.ts';
import { partitionFilter } from './partition/index.ts';
import { pauseFilter } from './pause/index.ts';
import { rateFilter } from './rate/index.ts';
import { readaheadFilter } from './readahead/index.ts';
import { readonlyFilter } from './readonly/index.ts';
import { retryFilter } from './retry/index.ts';
import { scanFilter } from './scan/index.ts';
import { statsFilter } from './stats/index.ts';
import { truncateFilter } from './truncate/index.ts';

export const filters: readonly FilterDefinition[] = [offsetFilter, partitionFilter, cowFilter, readonlyFilter, truncateFilter, noextentsFilter, delayFilter, errorFilter, statsFilter, ipFilter, limitFilter, logFilter, cacheFilter, cacheextentsFilter, extentlistFilter, retryFilter, readaheadFilter, rateFilter, scanFilter, pauseFilter,
  nozeroFilter, fuaFilter, blocksizeFilter, blocksizePolicyFilter, protectFilter, checkwriteFilter, swabFilter, noparallelFilter, nocacheFilter, multiConnFilter,
  gzipFilter, xzFilter, exitlastFilter, exitwhenFilter];
