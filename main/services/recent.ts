// The recent-images list, kept as a small JSON file in the app's state folder so it survives
// restarts of either host. A damaged or missing file is an empty list, never an error.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RecentImage } from '../../shared/ipc.ts';

const MAX_RECENT = 12;

export class RecentImages {
  private readonly file: string | null;

  /** `dir` null keeps the list in memory only (tests, --no-state). */
  constructor(dir: string | null) {
    this.file = dir ? path.join(dir, 'recent.json') : null;
  }

  private memory: RecentImage[] = [];

  async list(): Promise<RecentImage[]> {
    if (!this.file) return this.memory;
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      return Array.isArray(parsed) ? parsed.filter(isRecentImage).slice(0, MAX_RECENT) : [];
    } catch {
      return [];
    }
  }

  /** Move (or add) the image to the top of the list. */
  async add(entry: RecentImage): Promise<void> {
    const same = (r: RecentImage) => (entry.path !== undefined && r.path === entry.path) || (entry.uri !== undefined && r.uri === entry.uri);
    const list = [entry, ...(await this.list()).filter((r) => !same(r))].slice(0, MAX_RECENT);
    if (!this.file) {
      this.memory = list;
      return;
    }
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(list, null, 1));
    await rename(tmp, this.file);
  }
}

function isRecentImage(x: unknown): x is RecentImage {
  const r = x as RecentImage | null;
  return typeof r === 'object' && r !== null && typeof r.title === 'string' && typeof r.openedAt === 'number' &&
    (typeof r.path === 'string' || typeof r.uri === 'string');
}
