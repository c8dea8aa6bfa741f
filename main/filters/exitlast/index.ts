// exitlast: stop the server when its last client disconnects (nbdkit-exitlast-filter), so a
// server started for one job goes away with it. Not before the first client has come.
// Clients are counted where they connect (preconnect) rather than where the chain opens,
// because the handshake and the CLI also open the chain for a moment to ask it things.
import { defineFilter } from '../../backend/types.ts';

export const exitlastFilter = defineFilter({
  name: 'exitlast',
  summary: 'exit when the last client disconnects',
  cliOnly: true,
  params: [],
  create() {
    let clients = 0;
    let exit: ((reason: string) => void) | null = null;
    return {
      preconnect() {
        clients++;
        return () => {
          clients--;
          if (clients === 0) exit?.('the last client disconnected');
        };
      },
      watchServer(tell) {
        exit = tell;
        return () => {
          exit = null;
        };
      },
      open: () => ({}),
    };
  },
});
