import { describe, expect, it } from 'vitest';
import { droppedTargets } from './drop.ts';

describe('droppedTargets', () => {
  it('turns file URLs into paths, decoding escapes', () => {
    expect(droppedTargets('file:///tmp/my%20disk.qcow2\r\n', '')).toEqual(['/tmp/my disk.qcow2']);
  });

  it('keeps nbd URIs as they are and skips uri-list comments', () => {
    expect(droppedTargets('# dragged\nnbd://127.0.0.1:10809/x', '')).toEqual(['nbd://127.0.0.1:10809/x']);
  });

  it('falls back to plain text', () => {
    expect(droppedTargets('', '/srv/images/a.img')).toEqual(['/srv/images/a.img']);
  });
});
