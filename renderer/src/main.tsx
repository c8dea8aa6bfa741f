import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';
import { setTransport } from './transport/index.ts';

if (import.meta.env.DEV && new URLSearchParams(location.search).has('fake')) {
  const { DevFakeTransport } = await import('./transport/dev-fake.ts');
  setTransport(new DevFakeTransport());
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
