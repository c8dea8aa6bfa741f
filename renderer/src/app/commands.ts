// What each command does. Keys (app/shortcuts.ts) and, in Electron, the menu (app.command
// events) both end here; which key runs which command is the table in shared/commands.ts.
import { commandEnabled, type CommandId } from '../../../shared/commands.ts';
import { exportOf } from '../store/server-slice.ts';
import { useApp, type AppState } from '../store/store.ts';
import { closeImage, exportMap, openDemo, openWithDialog, startServing, stopServing } from './actions.ts';

/** What a command may need from the window around it. */
export interface CommandEnv {
  /** The host shows native file dialogs (Electron): "open" browses instead of focusing the field. */
  nativeDialogs: boolean;
  focusOpenField(): void;
}

interface Run {
  s: AppState;
  /** The active image; '' only for commands that run without one. */
  id: string;
  env: CommandEnv;
}

const RUN: Record<CommandId, (r: Run) => void> = {
  open: ({ env }) => (env.nativeDialogs ? void openWithDialog() : env.focusOpenField()),
  'open-uri': ({ env }) => env.focusOpenField(),
  'open-demo': () => void openDemo(),
  'next-tab': ({ s }) => stepTab(s, 1),
  'previous-tab': ({ s }) => stepTab(s, -1),
  close: ({ id }) => void closeImage(id),
  serve: ({ s, id }) => void (exportOf(s.status, id) ? stopServing(id) : startServing(id)),
  'stop-serving': ({ id }) => void stopServing(id),
  'export-map': ({ id }) => void exportMap(id, 'nbdinfo-json'),
  'zoom-in': ({ s, id }) => s.zoom(id, 0.5, 0.5),
  'zoom-out': ({ s, id }) => s.zoom(id, 0.5, 2),
  'zoom-reset': ({ s, id }) => s.resetView(id),
  'pan-left': ({ s, id }) => s.pan(id, -0.25),
  'pan-right': ({ s, id }) => s.pan(id, 0.25),
  'open-bytes': ({ s, id }) => s.hover?.imageId === id && s.select(id, s.hover.offset),
};

export function runCommand(command: CommandId, env: CommandEnv): void {
  const s = useApp.getState();
  if (!commandEnabled(command, { hasImage: s.activeId !== null })) return;
  RUN[command]({ s, id: s.activeId ?? '', env });
}

/** Activates the next (+1) or previous (-1) tab, wrapping around. */
function stepTab(s: AppState, step: 1 | -1): void {
  const at = s.images.findIndex((i) => i.id === s.activeId);
  const n = s.images.length;
  if (n > 0) s.setActive(s.images[(at + (step === 1 ? 1 : n - 1)) % n]!.id);
}
