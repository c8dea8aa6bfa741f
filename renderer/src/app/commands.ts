// Runs a command from a shortcut or a menu (Electron sends menu items as app.command events).
import { useApp } from '../store/store.ts';
import { exportOf } from '../store/server-slice.ts';
import { closeImage, exportMap, openDemo, openWithDialog, startServing, stopServing } from './actions.ts';
import type { Command } from './shortcuts.ts';

export function runCommand(command: Command, nativeDialogs: boolean): void {
  const s = useApp.getState();
  const id = s.activeId;
  const focusOpenField = () => document.querySelector<HTMLInputElement>('[data-testid="open-input"]')?.focus();
  switch (command) {
    case 'open':
      if (nativeDialogs) void openWithDialog();
      else focusOpenField();
      return;
    case 'open-uri':
      focusOpenField();
      return;
    case 'open-demo':
      void openDemo();
      return;
    case 'next-tab':
    case 'previous-tab': {
      const at = s.images.findIndex((i) => i.id === id);
      const n = s.images.length;
      if (n > 0) s.setActive(s.images[(at + (command === 'next-tab' ? 1 : n - 1)) % n]!.id);
      return;
    }
  }
  if (!id) return;
  switch (command) {
    case 'close':
      void closeImage(id);
      return;
    case 'serve':
      void (exportOf(s.status, id) ? stopServing(id) : startServing(id));
      return;
    case 'stop-serving':
      void stopServing(id);
      return;
    case 'export-map':
      void exportMap(id, 'nbdinfo-json');
      return;
    case 'zoom-in':
      s.zoom(id, 0.5, 0.5);
      return;
    case 'zoom-out':
      s.zoom(id, 0.5, 2);
      return;
    case 'zoom-reset':
      s.resetView(id);
      return;
    case 'pan-left':
      s.pan(id, -0.25);
      return;
    case 'pan-right':
      s.pan(id, 0.25);
      return;
  }
}
