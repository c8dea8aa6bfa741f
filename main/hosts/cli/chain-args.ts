// Turns nbdkit-style words into a chain config: `[--filter=NAME]... PLUGIN [KEY=VALUE]...`
// or the shorthand `IMAGE` / `URI`. Filters consume the keys they declare; the rest go to
// the plugin, and one bare word sets the plugin's magic key (`memory 1G` = size=1G).
import { existsSync } from 'node:fs';
import type { ChainConfig } from '../../../shared/chain-config.ts';
import { REPEAT_SEPARATOR, type ParamSpec } from '../../../shared/params.ts';
import { registry } from '../../catalog.ts';
import { detectImage } from '../../formats/detect.ts';
import { isNbdUri } from '../../nbd/uri.ts';
import { isHttpUrl } from '../../plugins/http/client.ts';
import { UsageError } from './usage-error.ts';

export { UsageError };

export interface ChainWords {
  filters: string[];
  /** The plugin name, image path or URI, then its KEY=VALUE words. */
  words: string[];
}

export interface ResolvedChain {
  config: ChainConfig;
  /** Image format when the target was an image file (raw, qcow2, ...). */
  format?: string;
  /** What the user named: the image path, URI or plugin. */
  target: string;
}

export async function resolveChain({ filters, words }: ChainWords): Promise<ResolvedChain> {
  const [first, ...rest] = words;
  if (!first) throw new UsageError('name a plugin, an image file or an nbd:// URI');
  for (const f of filters) registry.filter(f); // unknown filter: clear error now
  let plugin: string;
  let format: string | undefined;
  const pluginParams: Record<string, string> = {};
  if (registry.hasPlugin(first)) {
    plugin = first;
  } else if (isNbdUri(first)) {
    plugin = 'nbd';
    pluginParams.uri = first;
  } else if (existsSync(first) || isHttpUrl(first)) {
    const detected = await detectImage(first);
    plugin = detected.plugin;
    format = detected.format;
    pluginParams[registry.plugin(plugin).magicKey ?? 'file'] = first;
  } else if (first.includes('/') || first.includes('.')) {
    throw new UsageError(`${first}: no such file`);
  } else {
    throw new UsageError(`unknown plugin '${first}' and no file of that name (plugins: ${registry.describe().filter((c) => c.kind === 'plugin').map((c) => c.name).join(', ')})`);
  }

  const filterParams: Record<string, string>[] = filters.map(() => ({}));
  const pdef = registry.plugin(plugin);
  for (const word of rest) {
    const eq = word.indexOf('=');
    // As nbdkit: a word is KEY=VALUE only when what comes before '=' could be a key, so a data
    // string like `"a=b"` still goes to the magic key; a repeatable magic key (split's file)
    // takes several bare words.
    if (eq <= 0 || !CONFIG_KEY.test(word.slice(0, eq))) {
      const magic = pdef.magicKey;
      const repeats = pdef.params.some((p) => p.key === magic && p.repeat);
      if (!magic || (magic in pluginParams && !repeats)) throw new UsageError(`'${word}' is not KEY=VALUE (plugin ${plugin} takes: ${pdef.params.map((p) => p.key).join(', ')})`);
      setParam(pluginParams, pdef.params, magic, word);
      continue;
    }
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const owner = filters.findIndex((f) => registry.filter(f).params.some((p) => p.key === key));
    if (owner >= 0) setParam(filterParams[owner]!, registry.filter(filters[owner]!).params, key, value);
    else setParam(pluginParams, pdef.params, key, value);
  }
  const config: ChainConfig = {
    plugin: { name: plugin, params: pluginParams },
    filters: filters.map((name, i) => ({ name, params: filterParams[i]!, enabled: true })),
  };
  registry.validate(config);
  return { config, format, target: first };
}

/** What nbdkit accepts as a parameter name (is_config_key): a letter, then letters, digits, '_', '-' or '.'. */
const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** A later value replaces an earlier one, except for keys declared `repeat`, which collect them all. */
function setParam(into: Record<string, string>, specs: readonly ParamSpec[], key: string, value: string): void {
  const repeats = specs.some((p) => p.key === key && p.repeat);
  into[key] = repeats && key in into ? `${into[key]}${REPEAT_SEPARATOR}${value}` : value;
}
