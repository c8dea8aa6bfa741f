// The hex view's tools for the selection and the cursor: go to an offset (the map's parser,
// so 0x1f000, 1048576, 1.5G and 512K all work), copy as hex or text, save to a file.
import { useState, type FormEvent } from 'react';
import { parseGoTo } from '../map/goto.ts';

interface Props {
  size: number;
  onGoTo(offset: number): void;
  onCopy(as: 'hex' | 'text'): void;
  onSave(): void;
}

export function HexToolbar({ size, onGoTo, onCopy, onSave }: Props) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const r = parseGoTo(text, size);
    if ('error' in r) return setError(r.error);
    setError(null);
    onGoTo(r.offset);
  };
  return (
    <div className="hex-toolbar">
      <form onSubmit={submit}>
        <input data-testid="hex-goto" aria-label="Go to offset in the bytes" placeholder="go to 0x1f000, 512K" value={text} onChange={(e) => setText(e.target.value)} />
      </form>
      <button className="btn small" data-testid="hex-copy-hex" onClick={() => onCopy('hex')}>
        Copy hex
      </button>
      <button className="btn small" data-testid="hex-copy-text" onClick={() => onCopy('text')}>
        Copy text
      </button>
      <button className="btn small" data-testid="hex-save" onClick={onSave}>
        Save…
      </button>
      {error && (
        <span className="hex-msg bad" data-testid="hex-goto-error">
          {error}
        </span>
      )}
    </div>
  );
}
