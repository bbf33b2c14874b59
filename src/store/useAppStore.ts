// The React binding of the store: components subscribe to the slice they read.

import { useStore } from 'zustand';
import { appStore, type AppState } from './appStore.ts';

export function useAppStore<T>(selector: (state: AppState) => T): T {
  return useStore(appStore, selector);
}
