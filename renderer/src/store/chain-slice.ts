// The component catalogue, each image's chain, and a pending "this drops unsaved data" question.
import type { ChainConfig, FilterConfig } from '../../../shared/chain-config.ts';
import type { ChainState, ComponentInfo } from '../../../shared/ipc.ts';
import type { SliceCreator } from './types.ts';

export interface PendingConfirmation {
  imageId: string;
  config: ChainConfig;
  filters: string[];
}

/** Any other yes/no question for the confirm dialog (stop serving, discard the overlay); `confirm` runs on yes. */
export interface Question {
  title: string;
  text: string;
  confirmLabel: string;
  confirm(): void;
}

export interface ChainSlice {
  components: ComponentInfo[];
  chains: Record<string, ChainState>;
  confirmation: PendingConfirmation | null;
  question: Question | null;
  /** An overlay commit's progress per image (bytes done of the disk's size). */
  commitProgress: Record<string, { done: number; total: number }>;
  setComponents(list: ComponentInfo[]): void;
  setChain(state: ChainState): void;
  askConfirmation(c: PendingConfirmation | null): void;
  askQuestion(q: Question | null): void;
  setCommitProgress(imageId: string, p: { done: number; total: number }): void;
}

export const createChainSlice: SliceCreator<ChainSlice> = (set) => ({
  components: [],
  chains: {},
  confirmation: null,
  question: null,
  commitProgress: {},
  setComponents: (components) => set({ components }),
  setChain: (state) => set((s) => ({ chains: { ...s.chains, [state.imageId]: state } })),
  askConfirmation: (confirmation) => set({ confirmation }),
  askQuestion: (question) => set({ question }),
  setCommitProgress: (imageId, p) => set((s) => ({ commitProgress: { ...s.commitProgress, [imageId]: p } })),
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

/**
 * Moves an enabled filter one place outward (-1) or inward (+1) among the enabled ones:
 * disabled filters kept in the config hold no place in the chain, so a move passes them.
 */
export function withFilterMoved(config: ChainConfig, name: string, delta: -1 | 1): ChainConfig {
  const at = config.filters.findIndex((f) => f.name === name);
  if (at < 0) return config;
  let to = at + delta;
  while (to >= 0 && to < config.filters.length && !config.filters[to]!.enabled) to += delta;
  if (to < 0 || to >= config.filters.length) return config;
  const filters = [...config.filters];
  [filters[at], filters[to]] = [filters[to]!, filters[at]!];
  return { ...config, filters };
}

/**
 * The sidebar's order, kept across toggles: names already listed keep their places, new ones
 * follow in `current`'s order. The list re-sorts only when asked (a move, another image), so
 * a card does not jump away from the pointer that switched it on.
 */
export function keepOrder(previous: readonly string[], current: readonly string[]): string[] {
  const present = new Set(current);
  const kept = previous.filter((n) => present.has(n));
  const seen = new Set(kept);
  return [...kept, ...current.filter((n) => !seen.has(n))];
}

/**
 * Filters in chain order first, then the rest of the catalogue alphabetically. `position`
 * is an enabled filter's place in the running chain (0 = outermost); `last` marks the innermost.
 */
export function sidebarOrder(config: ChainConfig, components: readonly ComponentInfo[]): { info: ComponentInfo; config?: FilterConfig; position?: number; last?: boolean }[] {
  const filters = components.filter((c) => c.kind === 'filter');
  const enabled = config.filters.filter((f) => f.enabled).map((f) => f.name);
  const inChain = config.filters
    .map((f) => ({ info: filters.find((c) => c.name === f.name), config: f }))
    .filter((x): x is { info: ComponentInfo; config: FilterConfig } => x.info !== undefined)
    .map((x) => {
      const rank = enabled.indexOf(x.config.name);
      return rank < 0 ? x : { ...x, position: rank, last: rank === enabled.length - 1 };
    });
  const rest = filters
    .filter((c) => !config.filters.some((f) => f.name === c.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((info) => ({ info }));
  return [...inChain, ...rest];
}
