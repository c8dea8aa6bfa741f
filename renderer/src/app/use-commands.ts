// Runs commands from the keyboard and, in Electron, from the menu, whose items arrive as
// app.command events carrying a command id of shared/commands.ts.
import { useEffect, type RefObject } from 'react';
import { isCommandId } from '../../../shared/commands.ts';
import { transport } from '../transport/index.ts';
import { runCommand, type CommandEnv } from './commands.ts';
import { commandOfKeyEvent } from './shortcuts.ts';

export function useCommands(nativeDialogs: boolean, openField: RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    const env = (native: boolean): CommandEnv => ({ nativeDialogs: native, focusOpenField: () => openField.current?.focus() });
    const onKey = (e: KeyboardEvent) => {
      const command = commandOfKeyEvent(e);
      if (!command) return;
      e.preventDefault();
      runCommand(command, env(nativeDialogs));
    };
    window.addEventListener('keydown', onKey);
    // Only Electron has a menu, and it has native dialogs.
    const offMenu = transport().on('app.command', ({ command }) => {
      if (isCommandId(command)) runCommand(command, env(true));
    });
    return () => {
      window.removeEventListener('keydown', onKey);
      offMenu();
    };
  }, [nativeDialogs, openField]);
}
