// The cow card's answer to "unsaved writes": commit them (the disk as the chain shows it) into
// a new image file, raw or qcow2, or discard them. Commit is a small form in the card, so the
// map beside it stays in view; the engine writes in the background and reports progress.
import { useState } from 'react';
import { OVERLAY_COMMIT_FORMATS, type OverlayCommitFormat, type OverlayCommitResult } from '../../../shared/ipc.ts';
import { commitOverlay, discardOverlay } from '../app/actions.ts';
import { formatBytes } from '../format/bytes.ts';
import { useApp } from '../store/store.ts';

export function OverlayActions() {
  const imageId = useApp((s) => s.activeId);
  const [open, setOpen] = useState(false);
  if (!imageId) return null;
  return (
    <div className="overlay-actions" data-testid="overlay-actions">
      <div className="overlay-buttons">
        <button className="btn small" aria-expanded={open} data-testid="overlay-commit-open" onClick={() => setOpen(!open)}>
          Commit to a file…
        </button>
        <button className="btn small danger" data-testid="overlay-discard" onClick={() => void discardOverlay(imageId)}>
          Discard…
        </button>
      </div>
      {open && <CommitForm imageId={imageId} />}
    </div>
  );
}

function CommitForm({ imageId }: { imageId: string }) {
  const [path, setPath] = useState('');
  const [format, setFormat] = useState<OverlayCommitFormat>('raw');
  const [writing, setWriting] = useState(false);
  const [result, setResult] = useState<OverlayCommitResult | null>(null);
  const submit = async () => {
    setWriting(true);
    setResult(null);
    useApp.getState().setCommitProgress(imageId, { done: 0, total: 0 });
    await commitOverlay(imageId, path.trim(), format, setResult);
    setWriting(false);
  };
  return (
    <form className="overlay-commit" data-testid="overlay-commit-form" onSubmit={(e) => (e.preventDefault(), void submit())}>
      <label htmlFor="overlay-path">Save as</label>
      <input id="overlay-path" className="input mono" value={path} placeholder="/path/to/new.img" onChange={(e) => setPath(e.target.value)} data-testid="overlay-path" />
      <label htmlFor="overlay-format">Format</label>
      <select id="overlay-format" className="input" value={format} onChange={(e) => setFormat(e.target.value as OverlayCommitFormat)} data-testid="overlay-format">
        {OVERLAY_COMMIT_FORMATS.map((f) => (
          <option key={f} value={f}>{f === 'qcow2' ? 'qcow2 (needs qemu-img)' : 'raw (sparse)'}</option>
        ))}
      </select>
      <span />
      <button className="btn small primary" type="submit" disabled={writing || !path.trim()} data-testid="overlay-commit">
        {writing ? 'Writing…' : 'Commit'}
      </button>
      {writing && <CommitProgress imageId={imageId} />}
      {result && (
        <div className="overlay-result" data-testid="overlay-result">
          Wrote <code>{result.path}</code> ({result.format}, {formatBytes(result.size)} disk, {formatBytes(result.bytesWritten)} of data)
        </div>
      )}
    </form>
  );
}

function CommitProgress({ imageId }: { imageId: string }) {
  const p = useApp((s) => s.commitProgress[imageId]);
  const fraction = p && p.total > 0 ? p.done / p.total : 0;
  return (
    <div className="overlay-result faint" data-testid="overlay-progress">
      <progress max={1} value={fraction} /> {p && p.total > 0 ? `${formatBytes(p.done)} of ${formatBytes(p.total)}` : 'starting…'}
    </div>
  );
}
