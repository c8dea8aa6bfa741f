import { describe, expect, it } from 'vitest';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import type { ComponentInfo } from '../../../shared/ipc.ts';
import { keepOrder, sidebarOrder, withFilterMoved } from './chain-slice.ts';

const plugin = { name: 'file', params: {} };
const c = (name: string): ComponentInfo => ({ kind: 'filter', name, summary: '', params: [] });
const chain: ChainConfig = {
  plugin,
  filters: [
    { name: 'delay', params: {}, enabled: true },
    { name: 'cow', params: {}, enabled: false },
    { name: 'stats', params: {}, enabled: true },
  ],
};

describe('the sidebar order', () => {
  it('gives positions to enabled filters only, the innermost marked last', () => {
    const order = sidebarOrder(chain, [c('cow'), c('delay'), c('stats')]);
    expect(order.map((x) => [x.info.name, x.position, x.last])).toEqual([
      ['delay', 0, false],
      ['cow', undefined, undefined],
      ['stats', 1, true],
    ]);
  });

  it('moves an enabled filter past a disabled one', () => {
    expect(withFilterMoved(chain, 'stats', -1).filters.map((f) => f.name)).toEqual(['stats', 'cow', 'delay']);
    expect(withFilterMoved(chain, 'delay', -1)).toBe(chain);
  });

  it('keeps the places a toggle found, adding new names at the end', () => {
    expect(keepOrder(['cow', 'delay', 'error'], ['delay', 'error', 'cow', 'offset'])).toEqual(['cow', 'delay', 'error', 'offset']);
    expect(keepOrder(['cow', 'gone'], ['cow'])).toEqual(['cow']);
  });
});
