import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { StatusBar } from './StatusBar.tsx';

beforeAll(() => {
  // Node has no navigator before version 21; the status bar asks it for the platform.
  if (typeof navigator === 'undefined') Object.defineProperty(globalThis, 'navigator', { value: { platform: 'Linux x86_64' }, configurable: true });
});

describe('StatusBar', () => {
  it('shows the keys of the command table, as the window has always printed them', () => {
    const html = renderToStaticMarkup(createElement(StatusBar, { connection: 'open', host: 'web' }));
    expect(html).toContain(
      '<span><kbd>wheel</kbd> zoom <kbd>drag</kbd> pan <kbd>+</kbd>/<kbd>−</kbd>/<kbd>0</kbd> zoom <kbd>Ctrl</kbd>+<kbd>O</kbd> open <kbd>Ctrl</kbd>+<kbd>↵</kbd> serve</span>',
    );
  });
});
