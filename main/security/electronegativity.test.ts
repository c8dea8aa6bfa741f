// Electronegativity (Doyensec's Electron security scanner) over the Electron app's code, with its
// findings parsed: it always exits 0, so the CSV is the verdict. Any HIGH or MEDIUM finding
// fails, except review-only checks (PRELOAD_JS_CHECK flags every preload script there is).
// A second scan of a deliberately unsafe window proves the scanner and the parser still
// catch what they should.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');
const REVIEW_ONLY = new Set(['PRELOAD_JS_CHECK']);

interface Finding {
  issue: string;
  severity: string;
  confidence: string;
  filename: string;
  location: string;
  sample: string;
}

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}

async function scan(dir: string, out: string): Promise<Finding[]> {
  const bin = path.join(root, 'node_modules', '.bin', 'electronegativity');
  await run(bin, ['-i', dir, '-r', '-o', out], { cwd: dir, timeout: 240_000, maxBuffer: 16 * 2 ** 20 });
  const [header, ...rows] = parseCsv(await readFile(out, 'utf8'));
  const names = header!.map((h) => h.trim());
  return rows.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? '').trim()])) as unknown as Finding);
}

const blocking = (findings: Finding[]) =>
  findings.filter((f) => (f.severity === 'HIGH' || f.severity === 'MEDIUM') && !REVIEW_ONLY.has(f.issue));

let tmp: string;
let projectFindings: Finding[];
let unsafe: Finding[];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bs-electronegativity-'));
  const fixture = path.join(tmp, 'unsafe');
  await run('mkdir', ['-p', fixture]);
  await writeFile(path.join(fixture, 'package.json'), JSON.stringify({ name: 'unsafe', devDependencies: { electron: '41.0.0' } }));
  await writeFile(path.join(fixture, 'main.js'), [
    "const { app, BrowserWindow } = require('electron');",
    'app.whenReady().then(() => {',
    "  const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false, webSecurity: false } });",
    "  w.loadURL('http://example.com/');",
    '});',
  ].join('\n'));
  // Under load the scanner now and then writes a report with nothing analysed (seen in CI:
  // an empty list for the unsafe window). Such a run is repeated, one scan at a time; a
  // scanner that keeps failing still fails the assertions below.
  // The parts an Electron window is made of, copied out so that the scan reads them and not
  // the engine, its tests and node_modules (which took minutes on a loaded machine).
  const project = path.join(tmp, 'project');
  for (const part of ['package.json', 'main/hosts/electron', 'preload', 'renderer/src', 'renderer/index.html', 'shared']) {
    await cp(path.join(root, part), path.join(project, part), { recursive: true });
  }
  projectFindings = await scanUntil(project, path.join(tmp, 'project.csv'), (f) => f.some((x) => x.issue === 'PRELOAD_JS_CHECK'));
  unsafe = await scanUntil(fixture, path.join(tmp, 'unsafe.csv'), (f) => blocking(f).length > 0);
}, 300_000);

async function scanUntil(dir: string, out: string, complete: (findings: Finding[]) => boolean): Promise<Finding[]> {
  let findings: Finding[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    findings = await scan(dir, out);
    if (complete(findings)) break;
    console.error(`electronegativity: scan ${attempt} of ${dir} analysed nothing useful (${findings.length} findings); scanning again`);
  }
  return findings;
}

afterAll(() => rm(tmp, { recursive: true, force: true }));

it('analysed the Electron main window (its preload is flagged for review)', () => {
  // An empty or partial scan (a file it could not parse) must not pass as a clean one.
  if (!projectFindings.some((f) => f.issue === 'PRELOAD_JS_CHECK')) console.error(`electronegativity found: ${JSON.stringify(projectFindings, null, 1)}`);
  expect(projectFindings.some((f) => f.issue === 'PRELOAD_JS_CHECK' && f.filename.endsWith(path.join('hosts', 'electron', 'main.ts')))).toBe(true);
});

it('finds no high or medium issue in the Electron app', () => {
  expect(blocking(projectFindings)).toEqual([]);
});

it('catches an unsafe window, so a clean result means something', () => {
  const issues = new Set(blocking(unsafe).map((f) => f.issue));
  for (const issue of ['CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'WEB_SECURITY_JS_CHECK', 'LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK']) {
    expect(issues).toContain(issue);
  }
});

it('parses quoted CSV fields with commas and quotes', () => {
  expect(parseCsv('a,"b, ""c""",d\n')).toEqual([['a', 'b, "c"', 'd']]);
});
