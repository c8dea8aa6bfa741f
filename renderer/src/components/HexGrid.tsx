// The hex view's rows, hexdump -C style (offset, 16 bytes in hex, the same as ASCII), with
// the selection highlighted in both columns and the cursor's byte outlined. Each byte is a
// span carrying its offset, so one listener on the grid turns a press, a drag or a
// shift+click into a selection. Zero rows fold into one "*" unless the selection is there.
// The compare view marks bytes too (each side's differing bytes) and folds nothing, so its
// two grids keep their rows in step.
import { useRef, type KeyboardEvent, type MouseEvent, type ReactNode } from 'react';
import { formatHex } from '../format/bytes.ts';
import { asciiChar, BYTES_PER_ROW, isZeroRow, type ByteRange } from '../format/hex.ts';
import type { WindowBytes } from '../hex/use-window-bytes.ts';

interface Props {
  bytes: WindowBytes;
  focus: number;
  range: ByteRange;
  /** A byte pressed (extend: shift held, or dragged over with the button down). */
  onPick(offset: number, extend: boolean): void;
  onKeyDown(e: KeyboardEvent): void;
  /** Bytes to mark (class "diff": the compare view's differing bytes). */
  marked?: (offset: number) => boolean;
  /** Fold runs of zero rows (default true). */
  fold?: boolean;
  testId?: string;
}

export function HexGrid({ bytes, focus, range, onPick, onKeyDown, marked, fold = true, testId = 'hex-grid' }: Props) {
  const dragging = useRef(false);
  const offsetOf = (e: MouseEvent) => {
    const o = (e.target as HTMLElement).dataset.o;
    return o === undefined ? null : Number(o);
  };
  const onMouseDown = (e: MouseEvent) => {
    const o = offsetOf(e);
    if (o === null || e.button !== 0) return;
    e.preventDefault(); // no text selection of the spans; the grid keeps the keyboard
    (e.currentTarget as HTMLElement).focus({ preventScroll: true }); // a press must not move what is under the pointer
    dragging.current = true;
    onPick(o, e.shiftKey);
  };
  const onMouseOver = (e: MouseEvent) => {
    const o = offsetOf(e);
    if (o !== null && dragging.current && e.buttons & 1) onPick(o, true);
  };
  return (
    <div
      className="hex"
      tabIndex={0}
      data-testid={testId}
      aria-label="Bytes (click, drag or shift+click to select; arrows move)"
      onMouseDown={onMouseDown}
      onMouseOver={onMouseOver}
      onMouseUp={() => (dragging.current = false)}
      onKeyDown={onKeyDown}
    >
      {rows(bytes, focus, range, fold, marked)}
    </div>
  );
}

const overlaps = (r: ByteRange, from: number, to: number) => r.start < to && r.end > from;

function rows({ data, offset }: WindowBytes, focus: number, range: ByteRange, fold: boolean, marked?: (offset: number) => boolean): ReactNode[] {
  const lines: ReactNode[] = [];
  const count = Math.ceil(data.length / BYTES_PER_ROW);
  let folding = false;
  for (let k = 0; k < count; k++) {
    const rowStart = offset + k * BYTES_PER_ROW;
    const selected = overlaps(range, rowStart, rowStart + BYTES_PER_ROW);
    const foldable = fold && !selected && k > 0 && k < count - 1 && isZeroRow(data, k * BYTES_PER_ROW) && isZeroRow(data, (k - 1) * BYTES_PER_ROW);
    if (foldable) {
      if (!folding) lines.push(<div key={k} className="fold">*</div>);
      folding = true;
      continue;
    }
    folding = false;
    lines.push(<HexRow key={k} data={data.subarray(k * BYTES_PER_ROW, (k + 1) * BYTES_PER_ROW)} offset={rowStart} focus={focus} range={range} marked={marked} />);
  }
  return lines;
}

interface RowProps {
  data: Uint8Array;
  offset: number;
  focus: number;
  range: ByteRange;
  marked?: (offset: number) => boolean;
}

function HexRow({ data, offset, focus, range, marked }: RowProps) {
  const hex: ReactNode[] = [];
  const ascii: ReactNode[] = [];
  for (let k = 0; k < BYTES_PER_ROW; k++) {
    // The extra space after byte 8 is the one landmark the eye uses to count columns.
    if (k > 0) hex.push(k === 8 ? '  ' : ' ');
    if (k >= data.length) {
      hex.push('  ');
      continue;
    }
    const o = offset + k;
    const b = data[k]!;
    const cls = (o >= range.start && o < range.end ? 'sel' : '') + (o === focus ? ' cur' : '') + (marked?.(o) ? ' diff' : '');
    const className = cls.trim() || undefined;
    hex.push(<span key={o} data-o={o} className={className}>{b.toString(16).padStart(2, '0')}</span>);
    ascii.push(<span key={o} data-o={o} className={className}>{asciiChar(b)}</span>);
  }
  return (
    <div>
      <span className="off">{formatHex(offset, 10).slice(2)}</span>
      <span className="bytes">{hex}</span>
      <span className="ascii">|{ascii}|</span>
    </div>
  );
}
