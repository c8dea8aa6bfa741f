// The component catalogue, each image's chain, and a pending "this drops unsaved data" question.
import type { ChainConfig, FilterConfig } from '../../../shared/chain-config.ts';
import type { ChainState, ComponentInfo } from '../../../shared/ipc.ts';
import type { SliceCreator } from './types.ts';

export interface PendingConfirmation {
  imageId: string;
  config: ChainConfig;
  filters: string[];
}

export interface ChainSlice {
  components: ComponentInfo[];
  chains: Record<string, ChainState>;
  confirmation: PendingConfirmation | null;
  setComponents(list: ComponentInfo[]): void;
  setChain(state: ChainState): void;
  askConfirmation(c: PendingConfirmation | null): void;
}

export const createChainSlice: SliceCreator<ChainSlice> = (set) => ({
  components: [],
  chains: {},
  confirmation: null,
  setComponents: (components) => set({ components }),
  setChain: (state) => set((s) => ({ chains: { ...s.chains, [state.imageId]: state } })),
  askConfirmation: (confirmation) => set({ confirmation }),
});

/**
 * Turns filter `name` on or off. A filter not in the chain yet is added just above the plugin
 * (innermost), with no parameters: the engine fills in defaults.
 */
export function withFilterEnabled(config: ChainConfig, name: string, enabled: boolean): ChainConfig {
  const present = config.filters.some((f) => f.name === name);
  const filters: FilterConfig[] = present
    ? config.filters.map((f) => (f.name === name ? { ...f, enabled } : f))
    : [...config.filters, { name, params: {}, enabled }];
  return { ...config, filters };
}

/** Replaces a filter's parameters; empty values are dropped so defaults apply. */
export function withFilterParams(config: ChainConfig, name: string, params: Record<string, string>): ChainConfig {
  const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v.trim() !== ''));
  const present = config.filters.some((f) => f.name === name);
  const filters = present
    ? config.filters.map((f) => (f.name === name ? { ...f, params: clean } : f))
    : [...config.filters, { name, params: clean, enabled: false }];
  return { ...config, filters };
}

/** Moves a filter one place outward (-1) or inward (+1). */
export function withFilterMoved(config: ChainConfig, name: string, delta: -1 | 1): ChainConfig {
  const at = config.filters.findIndex((f) => f.name === name);
  const to = at + delta;
  if (at < 0 || to < 0 || to >= config.filters.length) return config;
  const filters = [...config.filters];
  [filters[at], filters[to]] = [filters[to]!, filters[at]!];
  return { ...config, filters };
}

/** Filters in chain order first, then the rest of the catalogue alphabetically. */
export function sidebarOrder(config: ChainConfig, components: readonly ComponentInfo[]): { info: ComponentInfo; config?: FilterConfig; position?: number }[] {
  const filters = components.filter((c) => c.kind === 'filter');
  const inChain = config.filters
    .map((f, position) => ({ info: filters.find((c) => c.name === f.name), config: f, position }))
    .filter((x): x is { info: ComponentInfo; config: FilterConfig; position: number } => x.info !== undefined);
  const rest = filters
    .filter((c) => !config.filters.some((f) => f.name === c.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((info) => ({ info }));
  return [...inChain, ...rest];
}
