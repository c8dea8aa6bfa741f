import { expect, it } from 'vitest';
import { findElectron, launch } from './launch.ts';

// This machine has the electron package but no binary: the fallback is what runs here.
it.skipIf('path' in findElectron())('falls back to the browser UI on the demo image, saying why in one line', async () => {
  const lines: string[] = [];
  const launched = await launch({ images: [], appDir: process.cwd(), log: (l) => lines.push(l), uiPort: 0 });
  try {
    expect(launched.kind).toBe('browser');
    expect(lines[0]).toMatch(/^blockscope: no Electron binary on this machine \(.+\); opening the browser UI instead$/);
    expect(lines.at(-1)).toMatch(/^blockscope: browser UI at http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    if (launched.kind === 'browser') expect(launched.host.session.list().map((i) => i.demo)).toEqual([true]);
  } finally {
    if (launched.kind === 'browser') await launched.host.close();
  }
});
