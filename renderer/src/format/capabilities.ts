// An export's capabilities as `blockscope info` prints them: the block sizes, then one name
// and value a line, so what the serving panel says can be checked against the CLI's output.
import { CAPABILITY_NAMES, type ExportCapabilities } from '../../../shared/ipc.ts';

export function capabilityRows(caps: ExportCapabilities): [name: string, value: string][] {
  return CAPABILITY_NAMES.map((n) => [n, String(caps.flags[n])]);
}

/** "block sizes: minimum 1, preferred 4096, maximum 33554432" */
export function blockSizeLine(caps: ExportCapabilities): string {
  const b = caps.blockSize;
  return `block sizes: minimum ${b.minimum}, preferred ${b.preferred}, maximum ${b.maximum}`;
}
