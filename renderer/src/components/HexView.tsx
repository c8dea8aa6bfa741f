// The bytes around the clicked byte, read through the chain (so filters apply): a window of
// eight blocks, the clicked byte under the cursor, a selection made with the mouse or
// shift+arrows, the data inspector for the bytes at the selection, and tools to go to an
// offset, find bytes or text, copy and save. The parts live beside it (Hex*.tsx, ../hex/).
import { useState, type KeyboardEvent } from 'react';
import { formatBytes, formatHex } from '../format/bytes.ts';
import type { ByteRange } from '../format/hex.ts';
import { useByteSearch } from '../hex/use-byte-search.ts';
import { copyRange, saveRange } from '../hex/read-range.ts';
import { useHexCursor, WINDOW } from '../hex/use-hex-cursor.ts';
import { bytesAt, useWindowBytes } from '../hex/use-window-bytes.ts';
import { imageById, selectSize } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { DataInspector, INSPECT_BYTES } from './DataInspector.tsx';
import { HexGrid } from './HexGrid.tsx';
import { HexSearch } from './HexSearch.tsx';
import { HexToolbar } from './HexToolbar.tsx';

/** Arrow keys' steps: a byte sideways, a row up or down. */
const STEPS: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -16, ArrowDown: 16 };

export function HexView({ imageId }: { imageId: string }) {
  const size = useApp((s) => selectSize(s, imageId)) ?? 0;
  const title = useApp((s) => imageById(s, imageId)?.title) ?? 'image';
  const { cursor, moveTo, jump, page } = useHexCursor(imageId, size);
  const { bytes, error } = useWindowBytes(imageId, cursor?.windowStart ?? null, size);
  const [status, setStatus] = useState<{ text: string; bad?: boolean } | null>(null);
  const search = useByteSearch(imageId, size, jump);

  if (cursor === null) {
    return (
      <section className="card" aria-label="Bytes">
        <h2>Bytes</h2>
        <div className="faint">Click the map (or press Enter over it) to read a block through the chain.</div>
      </section>
    );
  }
  const { windowStart, focus, range } = cursor;
  const report = (work: Promise<string>) =>
    void work.then((text) => setStatus({ text, bad: text.startsWith('cannot') }), (e: Error) => setStatus({ text: e.message, bad: true }));
  const onKeyDown = (e: KeyboardEvent) => {
    const step = STEPS[e.key];
    if ((e.ctrlKey || e.metaKey) && e.key === 'c') report(copyRange(imageId, range, 'hex'));
    else if (step !== undefined && !e.altKey && !e.ctrlKey && !e.metaKey) moveTo(focus + step, e.shiftKey);
    else return;
    // The window's own shortcuts (arrows pan the map) must not see keys the grid used.
    e.preventDefault();
    e.stopPropagation();
  };
  const searchFrom = search.state.kind === 'found' && search.state.offset === range.start ? range.start + 1 : range.start;
  return (
    <section className="card hex-card" aria-label="Bytes" data-testid="hex-view">
      <h2>
        Bytes at {formatHex(windowStart)}
        <span className="right">
          <button className="btn small" disabled={windowStart === 0} onClick={() => page(-1)}>
            ◀ prev
          </button>{' '}
          <button className="btn small" disabled={windowStart + WINDOW >= size} onClick={() => page(1)}>
            next ▶
          </button>
        </span>
      </h2>
      <HexToolbar
        size={size}
        onGoTo={(o) => jump(o)}
        onCopy={(as) => report(copyRange(imageId, range, as))}
        onSave={() => report(saveRange(imageId, title, range))}
      />
      <HexSearch size={size} state={search.state} onFind={(p) => void search.find(p, searchFrom)} onCancel={search.cancel} />
      <SelectionLine range={range} focus={focus} status={status} />
      <div className="hex-body">
        {error ? <div className="hex-msg bad">{error}</div> : bytes && <HexGrid bytes={bytes} focus={focus} range={range} onPick={moveTo} onKeyDown={onKeyDown} />}
        <DataInspector bytes={bytesAt(bytes, range.start, inspectLength(range))} />
      </div>
    </section>
  );
}

function SelectionLine({ range, focus, status }: { range: ByteRange; focus: number; status: { text: string; bad?: boolean } | null }) {
  const n = range.end - range.start;
  return (
    <div className="hex-selection">
      <span data-testid="hex-selection">
        cursor {formatHex(focus)}
        {n > 1 && ` · selected ${n} bytes${n >= 1024 ? ` (${formatBytes(n)})` : ''} ${formatHex(range.start)}–${formatHex(range.end - 1)}`}
      </span>
      {status && (
        <span className={status.bad ? 'hex-msg bad' : 'hex-msg'} data-testid="hex-status">
          {status.text}
        </span>
      )}
    </div>
  );
}

/** The selection's bytes, up to a GUID's worth; a single byte reads on like a cursor does. */
function inspectLength(range: ByteRange): number {
  const n = range.end - range.start;
  return n === 1 ? INSPECT_BYTES : Math.min(INSPECT_BYTES, n);
}
