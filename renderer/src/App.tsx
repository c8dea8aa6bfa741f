// The window: toolbar, tabs, then filters | info + map + bytes | serving + stats.
import { useEffect, useState } from 'react';
import { openDemo, openTyped, reload, start } from './app/actions.ts';
import { runCommand } from './app/commands.ts';
import { droppedTargets } from './app/drop.ts';
import { commandFor } from './app/shortcuts.ts';
import { ConfirmDialog } from './components/ConfirmDialog.tsx';
import { FilterSidebar } from './components/FilterSidebar.tsx';
import { HexView } from './components/HexView.tsx';
import { InfoPanel } from './components/InfoPanel.tsx';
import { MapPanel } from './components/MapPanel.tsx';
import { ServePanel } from './components/ServePanel.tsx';
import { StatsPanel } from './components/StatsPanel.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { Tabs } from './components/Tabs.tsx';
import { Toolbar } from './components/Toolbar.tsx';
import { selectActive, useApp } from './store/store.ts';
import { transport } from './transport/index.ts';
import type { ConnectionState } from './transport/transport.ts';

const isMac = /Mac|iPhone|iPad/.test(navigator.platform);

export function App() {
  const image = useApp(selectActive);
  const error = useApp((s) => s.error);
  const setError = useApp((s) => s.setError);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [nativeDialogs, setNativeDialogs] = useState(false);
  const [dropping, setDropping] = useState(false);

  useEffect(() => {
    const t = transport();
    let wasClosed = false;
    const off = t.onConnection((state) => {
      setConnection(state);
      // The host may have restarted: what this page holds may be gone or changed.
      if (state === 'open' && wasClosed) void reload();
      if (state === 'closed') wasClosed = true;
    });
    void start();
    t.invoke('app.info', {})
      .then((info) => setNativeDialogs(info.nativeDialogs))
      .catch(() => {});
    const offCommand = t.on('app.command', (c) => runCommand(c.command, true));
    return () => {
      off();
      offCommand();
    };
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      const inField = !!target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA');
      const command = commandFor(e, isMac, inField);
      if (!command) return;
      e.preventDefault();
      runCommand(command, nativeDialogs);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [nativeDialogs]);

  return (
    <div
      className={`app${dropping ? ' dropping' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={() => setDropping(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDropping(false);
        const targets = droppedTargets(e.dataTransfer.getData('text/uri-list'), e.dataTransfer.getData('text/plain'));
        // In Electron the preload can name the dropped files' paths.
        const pathForFile = window.blockscope?.pathForFile;
        if (targets.length === 0 && pathForFile) {
          for (const file of Array.from(e.dataTransfer.files)) {
            const p = pathForFile(file);
            if (p) targets.push(p);
          }
        }
        if (targets.length === 0 && e.dataTransfer.files.length > 0) {
          setError('This window cannot see the dropped file’s path: type it in the open field instead.');
        }
        for (const t of targets) void openTyped(t);
      }}
    >
      <Toolbar nativeDialogs={nativeDialogs} />
      <div>
        {error && (
          <div className="banner" role="alert" data-testid="error-banner">
            <span>{error}</span>
            <span className="spacer" />
            <button className="btn small" onClick={() => setError(null)}>
              Dismiss
            </button>
          </div>
        )}
        <Tabs />
      </div>
      {image ? (
        <div className="workspace" key={image.id}>
          <aside className="sidebar">
            <FilterSidebar image={image} />
          </aside>
          <main className="center">
            <InfoPanel image={image} />
            <MapPanel image={image} />
            <HexView image={image} />
          </main>
          <aside className="rightbar">
            <ServePanel image={image} />
            <StatsPanel image={image} />
          </aside>
        </div>
      ) : (
        <div className="empty-state">
          <span className="brand-mark" style={{ width: 42, height: 42, borderRadius: 8 }} aria-hidden />
          <h1>Look inside a disk image</h1>
          <div>Open a raw, qcow2, VMDK, VHD, VHDX or VDI file, or an nbd:// URI — or drop one here.</div>
          <div>
            <button className="btn primary" onClick={() => void openDemo()}>
              Open the demo image
            </button>
          </div>
        </div>
      )}
      <StatusBar connection={connection} host={transport().host} />
      <ConfirmDialog />
    </div>
  );
}
