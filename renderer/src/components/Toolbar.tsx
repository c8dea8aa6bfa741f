// Brand, the open field (path or nbd:// URI), Browse (Electron), Demo and the recent list.
import { useEffect, useState, type RefObject } from 'react';
import { openDemo, openTyped, openWithDialog } from '../app/actions.ts';
import { selectActiveTarget } from '../store/selectors.ts';
import { useApp } from '../store/store.ts';

interface Props {
  nativeDialogs: boolean;
  /** The open field, which the open commands focus. */
  openField: RefObject<HTMLInputElement | null>;
}

export function Toolbar({ nativeDialogs, openField }: Props) {
  return (
    <header className="toolbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden />
        Blockscope
      </div>
      <OpenBar nativeDialogs={nativeDialogs} openField={openField} />
      <RecentImages />
      <button className="btn" onClick={() => void openDemo()} data-testid="open-demo">
        Demo image
      </button>
    </header>
  );
}

/**
 * The field follows the active tab: switching tabs, or opening an image, shows its path or
 * URI (the engine's resolved one, so `~/x` reads back as the full path). Typing edits a
 * draft that opens as a new tab; a failed open leaves the draft to be corrected.
 */
function OpenBar({ nativeDialogs, openField }: Props) {
  const target = useApp(selectActiveTarget);
  const [text, setText] = useState(target);
  useEffect(() => setText(target), [target]);
  return (
    <form
      className="open-bar"
      onSubmit={(e) => {
        e.preventDefault();
        void openTyped(text);
      }}
    >
      <input
        ref={openField}
        className="input"
        data-testid="open-input"
        placeholder="Image path, ~/…, file:// or nbd:// URI — or drop a file here"
        value={text}
        onChange={(e) => setText(e.target.value)}
        spellCheck={false}
      />
      <button className="btn primary" type="submit" disabled={!text.trim()}>
        Open
      </button>
      {nativeDialogs && (
        <button className="btn" type="button" onClick={() => void openWithDialog()}>
          Browse…
        </button>
      )}
    </form>
  );
}

function RecentImages() {
  const recent = useApp((s) => s.recent);
  return (
    <select
      className="btn"
      style={{ maxWidth: 180 }}
      value=""
      aria-label="Recent images"
      disabled={recent.length === 0}
      onChange={(e) => {
        if (e.target.value) void openTyped(e.target.value);
      }}
    >
      <option value="" disabled>
        Recent ({recent.length})
      </option>
      {recent.map((r) => {
        const target = r.path ?? r.uri ?? '';
        return (
          <option key={target} value={target} title={target}>
            {r.title} — {target}
          </option>
        );
      })}
    </select>
  );
}
