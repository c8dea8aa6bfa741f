// "Find" in the bytes: hex bytes or text, from the cursor forward through the chain, with
// progress and cancel while the engine scans (hex/use-byte-search.ts).
import { useState, type FormEvent } from 'react';
import { parsePattern, type PatternMode } from '../format/hex.ts';
import { describeSearch, type SearchState } from '../hex/use-byte-search.ts';

interface Props {
  size: number;
  state: SearchState;
  /** Runs a search for `bytes` from the cursor (past the last hit when the cursor is on it). */
  onFind(bytes: Uint8Array): void;
  onCancel(): void;
}

export function HexSearch({ size, state, onFind, onCancel }: Props) {
  const [text, setText] = useState('');
  const [mode, setMode] = useState<PatternMode>('hex');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const p = parsePattern(text, mode);
    if ('error' in p) return setError(p.error);
    setError(null);
    onFind(p.bytes);
  };
  const running = state.kind === 'running';
  const status = error ?? describeSearch(state, size);
  return (
    <form className="hex-search" onSubmit={submit}>
      <input
        data-testid="hex-search"
        aria-label="Find bytes"
        placeholder={mode === 'hex' ? 'find hex: de ad be ef' : 'find text'}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <select data-testid="hex-search-mode" aria-label="Search for" value={mode} onChange={(e) => setMode(e.target.value as PatternMode)}>
        <option value="hex">hex</option>
        <option value="text">text</option>
      </select>
      {running ? (
        <button type="button" className="btn small" onClick={onCancel}>
          Cancel
        </button>
      ) : (
        <button type="submit" className="btn small" data-testid="hex-find">
          Find next
        </button>
      )}
      {status && (
        <span className={error || state.kind === 'error' ? 'hex-msg bad' : 'hex-msg'} data-testid="hex-search-status">
          {status}
        </span>
      )}
    </form>
  );
}
