import { expect, it } from 'vitest';
import { openTestChain } from '../../testing/chains.ts';

it('says in words where a window starting past the end starts', async () => {
  await expect(openTestChain('memory', { size: '64M' }, [['offset', { offset: '100M' }]])).rejects.toThrow(
    'offset: offset: the window starts at 100 MiB, past the end of the 64 MiB disk',
  );
});

it('blames the range when the window ends past the end', async () => {
  await expect(openTestChain('memory', { size: '64M' }, [['offset', { offset: '32M', range: '64M' }]])).rejects.toThrow(
    'offset: range: the window ends at 96 MiB, past the end of the 64 MiB disk',
  );
});
