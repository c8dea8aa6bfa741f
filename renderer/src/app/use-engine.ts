// The window's link to the engine: loads its state once, reloads it when the browser host's
// socket comes back (the host may have restarted), and asks whether the host has native dialogs.
import { useEffect, useState } from 'react';
import { transport } from '../transport/index.ts';
import type { ConnectionState } from '../transport/transport.ts';
import { reload, start } from './actions.ts';

export function useEngine(): { connection: ConnectionState; nativeDialogs: boolean } {
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [nativeDialogs, setNativeDialogs] = useState(false);
  useEffect(() => {
    const t = transport();
    let wasClosed = false;
    const off = t.onConnection((state) => {
      setConnection(state);
      if (state === 'open' && wasClosed) void reload();
      if (state === 'closed') wasClosed = true;
    });
    void start();
    t.invoke('app.info', {})
      .then((info) => setNativeDialogs(info.nativeDialogs))
      .catch(() => {});
    return off;
  }, []);
  return { connection, nativeDialogs };
}
