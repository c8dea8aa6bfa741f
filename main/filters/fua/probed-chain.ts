// Test support for this group's filters: one filter over a memory disk whose plugin calls
// are logged, so a test can write out exactly what reached the plugin.
import type { FilterDefinition } from '../../backend/types.ts';
import { Registry } from '../../backend/registry.ts';
import { memoryPlugin } from '../../plugins/memory/index.ts';
import { probePlugin, type ProbeCall } from '../probe/index.ts';

const WRITE_LIKE = ['pwrite', 'zero', 'trim', 'flush'];

export async function probedChain(filter: FilterDefinition, params: Record<string, string>, size = '4M', calls = WRITE_LIKE) {
  const log: ProbeCall[] = [];
  const registry = new Registry([probePlugin(memoryPlugin, log)], [filter]);
  const chain = await registry.build({ plugin: { name: 'memory', params: { size } }, filters: [{ name: filter.name, params, enabled: true }] });
  const opened = await chain.open({ readonly: false, exportName: '' });
  /** The plugin's calls (of the kinds asked for) since the last look, as [call, ...args]. */
  const seen = () => log.splice(0).filter((c) => calls.includes(c.call)).map((c) => [c.call, ...c.args]);
  return { opened, top: opened.top, seen };
}
