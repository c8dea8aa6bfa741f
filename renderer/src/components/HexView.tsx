// The bytes of the clicked block, read through the chain (so filters apply): eight 512-byte
// blocks from the clicked one, offset / hex / ASCII, zero runs folded like hexdump's "*".
import { useEffect, useState, type ReactNode } from 'react';
import { decodeBase64 } from '../../../shared/ipc.ts';
import { formatHex } from '../format/bytes.ts';
import { BYTES_PER_ROW, hexRows, isZeroRow } from '../format/hex.ts';
import { BLOCK } from '../map/viewport.ts';
import { selectSize } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';
import { transport } from '../transport/index.ts';

const WINDOW = 8 * BLOCK;

export function HexView({ imageId }: { imageId: string }) {
  const size = useApp((s) => selectSize(s, imageId)) ?? 0;
  const selected = useApp((s) => (s.selected?.imageId === imageId ? s.selected.offset : null));
  const select = useApp((s) => s.select);
  const start = selected === null ? null : Math.floor(selected / BLOCK) * BLOCK;
  const { bytes, error } = useBytes(imageId, start, size);

  if (start === null) {
    return (
      <section className="card" aria-label="Bytes">
        <h2>Bytes</h2>
        <div className="faint">Click the map to read a block through the chain.</div>
      </section>
    );
  }
  return (
    <section className="card" aria-label="Bytes" data-testid="hex-view">
      <h2>
        Bytes at {formatHex(start)}
        <span className="right">
          <button className="btn small" disabled={start === 0} onClick={() => select(imageId, Math.max(0, start - WINDOW))}>
            ◀ prev
          </button>{' '}
          <button className="btn small" disabled={start + WINDOW >= size} onClick={() => select(imageId, start + WINDOW)}>
            next ▶
          </button>
        </span>
      </h2>
      {error ? <div style={{ color: 'var(--bad)' }}>{error}</div> : <div className="hex">{bytes && hexLines(bytes.data, bytes.offset)}</div>}
    </section>
  );
}

/** Reads WINDOW bytes from `start` through the chain; a newer start drops an older answer. */
function useBytes(imageId: string, start: number | null, size: number) {
  const [bytes, setBytes] = useState<{ offset: number; data: Uint8Array } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (start === null) return;
    let live = true;
    const length = Math.min(WINDOW, size - start);
    transport()
      .invoke('hex.read', { imageId, offset: start, length })
      .then((r) => {
        if (!live) return;
        setBytes({ offset: r.offset, data: decodeBase64(r.base64) });
        setError(null);
      })
      .catch((e: Error) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [start, imageId, size]);
  return { bytes, error };
}

/** hexdump -C's lines: a run of zero rows inside the window folds into one "*". */
function hexLines(data: Uint8Array, offset: number): ReactNode[] {
  const rows = hexRows(data, offset);
  const lines: ReactNode[] = [];
  let folding = false;
  rows.forEach((r, k) => {
    const zero = isZeroRow(data, k * BYTES_PER_ROW);
    const prevZero = k > 0 && isZeroRow(data, (k - 1) * BYTES_PER_ROW);
    if (zero && prevZero && k < rows.length - 1) {
      if (!folding) lines.push(<div key={k} className="fold">*</div>);
      folding = true;
      return;
    }
    folding = false;
    lines.push(
      <div key={k}>
        <span className="off">{formatHex(r.offset, 10).slice(2)}</span>
        <span className="bytes">{r.hex}</span>
        <span className="ascii">|{r.ascii}|</span>
      </div>,
    );
  });
  return lines;
}
