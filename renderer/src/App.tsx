// The window: toolbar, tabs, then filters | info + map + bytes | serving + stats.
import { useRef } from 'react';
import { openDemo } from './app/actions.ts';
import { useCommands } from './app/use-commands.ts';
import { useDrop } from './app/use-drop.ts';
import { useEngine } from './app/use-engine.ts';
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
import { selectActiveId } from './store/selectors.ts';
import { useApp } from './store/store.ts';
import { transport } from './transport/index.ts';

export function App() {
  // The id only: a panel reads the parts of the image it shows, so scan progress does not
  // re-render the whole window (store/selectors.ts).
  const activeId = useApp(selectActiveId);
  const { connection, nativeDialogs } = useEngine();
  const openField = useRef<HTMLInputElement>(null);
  useCommands(nativeDialogs, openField);
  const { dropping, ...drop } = useDrop();
  return (
    <div className={`app${dropping ? ' dropping' : ''}`} {...drop}>
      <Toolbar nativeDialogs={nativeDialogs} openField={openField} />
      <div className="app-top">
        <ErrorBanner />
        <Tabs />
      </div>
      {activeId ? <Workspace key={activeId} imageId={activeId} /> : <EmptyState />}
      <StatusBar connection={connection} host={transport().host} />
      <ConfirmDialog />
    </div>
  );
}

function Workspace({ imageId }: { imageId: string }) {
  return (
    <div className="workspace">
      <aside className="sidebar">
        <FilterSidebar imageId={imageId} />
      </aside>
      <main className="center">
        <InfoPanel imageId={imageId} />
        <MapPanel imageId={imageId} />
        <HexView imageId={imageId} />
      </main>
      <aside className="rightbar">
        <ServePanel imageId={imageId} />
        <StatsPanel imageId={imageId} />
      </aside>
    </div>
  );
}

function EmptyState() {
  return (
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
  );
}

function ErrorBanner() {
  const error = useApp((s) => s.error?.message);
  const setError = useApp((s) => s.setError);
  if (!error) return null;
  return (
    <div className="banner" role="alert" data-testid="error-banner">
      <span>{error}</span>
      <span className="spacer" />
      <button className="btn small" onClick={() => setError(null)}>
        Dismiss
      </button>
    </div>
  );
}
