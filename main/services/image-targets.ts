// What a user names (a path as typed, an nbd:// URI, an http(s):// URL) turned into the
// description of an image to open: its title, source, format and first chain. The session
// only checks whether the image is open already and opens it.
import os from 'node:os';
import path from 'node:path';
import type { ChainConfig } from '../../shared/chain-config.ts';
import type { Registry } from '../backend/registry.ts';
import { redactUrl } from '../plugins/http/client.ts';
import { ServiceError } from './errors.ts';
import { onDiskBytes, type ImageDescription, type ImageSource } from './open-image.ts';
import { resolveTypedPath } from './typed-path.ts';

export interface TargetDeps {
  registry: Registry;
  /** Which plugin serves an image file or URL (main/formats/detect.ts). */
  detectImage(target: string): Promise<{ format: string; plugin: string }>;
}

/** The absolute path a typed path names: relative to the engine's cwd, ~/…, or a file:// URI (typed-path.ts). */
export function absolutePath(typed: string): string {
  return resolveTypedPath(typed, { home: os.homedir(), cwd: process.cwd() });
}

/** Whether two sources name the same image. */
export function sameSource(a: ImageSource, b: ImageSource): boolean {
  return 'path' in a ? 'path' in b && a.path === b.path : 'uri' in b && a.uri === b.uri;
}

export async function describeFile(abs: string, demo: boolean, deps: TargetDeps): Promise<ImageDescription> {
  const detected = await detect(abs, abs, deps);
  const config: ChainConfig = { plugin: { name: detected.plugin, params: { file: abs } }, filters: [] };
  return { title: path.basename(abs), source: { path: abs }, format: detected.format, config, demo, onDiskSize: await onDiskBytes(abs) };
}

export function describeNbdUri(uri: string): ImageDescription {
  const config: ChainConfig = { plugin: { name: 'nbd', params: { uri } }, filters: [] };
  return { title: titleOfUri(uri), source: { uri }, format: 'nbd', config, demo: false, onDiskSize: null };
}

/** An image at an http(s):// URL: its format probed over the network, read by range requests. */
export async function describeUrl(url: string, deps: TargetDeps): Promise<ImageDescription> {
  const detected = await detect(url, redactUrl(url), deps);
  const key = deps.registry.plugin(detected.plugin).magicKey ?? 'file';
  const config: ChainConfig = { plugin: { name: detected.plugin, params: { [key]: url } }, filters: [] };
  return { title: titleOfUri(url), source: { uri: url }, format: detected.format, config, demo: false, onDiskSize: null };
}

/** `shown` is what the error may print (a URL without its password). */
async function detect(target: string, shown: string, deps: TargetDeps): Promise<{ format: string; plugin: string }> {
  try {
    return await deps.detectImage(target);
  } catch (err) {
    throw new ServiceError('failed', `cannot open ${shown}: ${(err as Error).message}`);
  }
}

function titleOfUri(uri: string): string {
  try {
    const u = new URL(uri);
    const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
    return name ? `${name} @ ${u.host || u.searchParams.get('socket') || 'nbd'}` : uri;
  } catch {
    return uri;
  }
}
