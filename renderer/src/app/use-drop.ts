// Dropping files or nbd:// URIs onto the window opens them.
import { useState, type DragEvent } from 'react';
import { useApp } from '../store/store.ts';
import { openTyped } from './actions.ts';
import { droppedTargets } from './drop.ts';

export interface DropTarget {
  dropping: boolean;
  onDragOver(e: DragEvent): void;
  onDragLeave(): void;
  onDrop(e: DragEvent): void;
}

export function useDrop(): DropTarget {
  const [dropping, setDropping] = useState(false);
  return {
    dropping,
    onDragOver: (e) => {
      e.preventDefault();
      setDropping(true);
    },
    onDragLeave: () => setDropping(false),
    onDrop: (e) => {
      e.preventDefault();
      setDropping(false);
      openDropped(e.dataTransfer);
    },
  };
}

function openDropped(data: DataTransfer): void {
  const targets = droppedTargets(data.getData('text/uri-list'), data.getData('text/plain'));
  // In Electron the preload can name the dropped files' paths.
  const pathForFile = window.blockscope?.pathForFile;
  if (targets.length === 0 && pathForFile) {
    for (const file of Array.from(data.files)) {
      const p = pathForFile(file);
      if (p) targets.push(p);
    }
  }
  if (targets.length === 0 && data.files.length > 0) {
    // An open: the next image opened (typed in the field, as this asks) takes it down.
    useApp.getState().setError('This window cannot see the dropped file’s path: type it in the open field instead.', 'open');
  }
  for (const t of targets) void openTyped(t);
}
