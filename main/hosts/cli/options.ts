// A small getopt: long and short options with or without values, `--opt=value` and
// `--opt value`, and positional words kept in order; and the TLS flags serving commands share
// (read by ./tls-options.ts, kept apart so commands that never serve load no TLS code).
import { UsageError } from './usage-error.ts';

export interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value. */
  value?: boolean;
  /** May be given several times (values collected in order). */
  repeat?: boolean;
}

export interface ParsedOptions {
  values: Map<string, string[]>;
  flags: Set<string>;
  positional: string[];
}

export function parseOptions(args: readonly string[], specs: OptionSpec[]): ParsedOptions {
  const argv = [...args];
  const out: ParsedOptions = { values: new Map(), flags: new Set(), positional: [] };
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      spec = byShort.get(arg.slice(1, 2));
      if (!spec) throw new UsageError(`unknown option ${arg}`);
      if (arg.length > 2 && !spec.value) {
        // -rfv: a run of flags
        argv.splice(i + 1, 0, `-${arg.slice(2)}`);
      } else if (arg.length > 2) {
        inline = arg.slice(2);
      }
    } else {
      out.positional.push(arg);
      continue;
    }
    if (spec.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option --${spec.long} needs a value`);
      const list = out.values.get(spec.long) ?? [];
      if (list.length && !spec.repeat) throw new UsageError(`option --${spec.long} given twice`);
      list.push(v);
      out.values.set(spec.long, list);
    } else {
      if (inline !== undefined) throw new UsageError(`option --${spec.long} takes no value`);
      out.flags.add(spec.long);
    }
  }
  return out;
}

export function oneValue(p: ParsedOptions, name: string): string | undefined {
  return p.values.get(name)?.[0];
}

/** nbdkit's TLS flags, shared by every command that serves. */
export const TLS_OPTIONS: OptionSpec[] = [
  { long: 'tls', value: true },
  { long: 'tls-certificates', value: true },
  { long: 'tls-verify-peer' },
  { long: 'tls-psk', value: true },
];
