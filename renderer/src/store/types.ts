import type { StateCreator } from 'zustand';
import type { AppState } from './store.ts';

/** A slice of the one app store, with access to the whole state. */
export type SliceCreator<T> = StateCreator<AppState, [], [], T>;
