// Follows the system's light/dark setting, live.
import { useSyncExternalStore } from 'react';
import type { ThemeName } from '../map/palette.ts';

const query = () => window.matchMedia('(prefers-color-scheme: light)');

export function currentTheme(): ThemeName {
  return query().matches ? 'light' : 'dark';
}

function subscribe(onChange: () => void): () => void {
  const q = query();
  q.addEventListener('change', onChange);
  return () => q.removeEventListener('change', onChange);
}

export function useTheme(): ThemeName {
  return useSyncExternalStore(subscribe, currentTheme);
}
