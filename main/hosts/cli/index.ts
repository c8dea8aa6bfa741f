// The `blockscope` command line: serve, map, info, ui. Every failure ends in one clear line
// on stderr and a non-zero exit status.
//
// Each command's module is imported when that command runs (the bundle is split per import),
// so `compare` or `--version` never parse the TLS, web-host and Electron code `serve` and `ui`
// need: start-up is a large share of a short command's time.
import { TLS_OPTIONS } from './options.ts';
import { UsageError } from './usage-error.ts';

const USAGE = `usage:
  blockscope serve [OPTIONS] [--filter=NAME]... PLUGIN [KEY=VALUE]...
  blockscope serve [OPTIONS] IMAGE|URI
  blockscope map IMAGE|URI [--json] [--totals]
  blockscope info IMAGE|URI [--json]
  blockscope compare A B [--json] [--strict]   (exit 0 identical, 1 different, 2 error)
  blockscope ui [--port N] [--ip ADDR] [--demo] [IMAGE|URI]...   (browser UI; prints its URL)
  blockscope app [IMAGE|URI]...          (the desktop app; the browser UI where Electron is missing)
  blockscope --help | --version

serve options:
  -p, --port PORT        TCP port (default 10809)
  -i, --ip ADDR          address to listen on (default 127.0.0.1)
  -U, --unix SOCKET      listen on a Unix socket instead (- makes a temporary one)
  -e, --export NAME      export name (default "")
  -D, --description TXT  export description
  -w, --writable         allow writes (the default is read-only)
  -r, --readonly         read-only (the default)
  -f, --foreground       stay in the foreground (default: go to the background once listening)
  -P, --pidfile FILE     write the server's PID to FILE
      --run CMD          run CMD with $uri set, stop when it exits, exit with its status
  -v, --verbose          log every request
      --activity FILE    on stop, save what clients read and wrote (CSV for *.csv, else an extent list)
      --demo             serve the built-in demo image`;

/** What each of nbdkit's TLS flags (TLS_OPTIONS, which `serve` parses) means, and its value. */
const TLS_HELP: Record<string, { value?: string; text: string }> = {
  tls: { value: 'off|on|require', text: 'STARTTLS refused (default), offered, or required before anything else' },
  'tls-certificates': { value: 'DIR', text: 'X.509: DIR holds ca-cert.pem, server-cert.pem, server-key.pem (implies --tls=on)' },
  'tls-verify-peer': { text: 'also require a client certificate signed by DIR/ca-cert.pem' },
  'tls-psk': { value: 'FILE', text: "PSK: psktool's key file, identity:hexkey lines (implies --tls=on)" },
};

function tlsHelp(): string {
  const lines = TLS_OPTIONS.map((o) => {
    const help = TLS_HELP[o.long] ?? { text: '' };
    const flag = `--${o.long}${o.value ? `${o.long === 'tls' ? '=' : ' '}${help.value ?? 'VALUE'}` : ''}`;
    return `      ${flag.padEnd(24)} ${help.text}`;
  });
  return [
    '',
    'TLS (serve; the same flags as nbdkit):',
    ...lines,
    '',
    'TLS as a client (map, info, the nbd plugin): libnbd URIs',
    '  nbds://HOST[:PORT]/EXPORT?tls-certificates=DIR   DIR: ca-cert.pem (+ client-cert.pem, client-key.pem)',
    '  nbds://USER@HOST/EXPORT?tls-psk-file=FILE        USER defaults to the login name',
    '  nbds+unix:///EXPORT?socket=PATH&tls-certificates=DIR; tls-verify-peer=false skips the server check',
  ].join('\n');
}

async function componentHelp(): Promise<string> {
  const { registry } = await import('../../catalog.ts');
  const lines: string[] = [];
  for (const kind of ['plugin', 'filter'] as const) {
    lines.push('', `${kind}s:`);
    for (const c of registry.describe().filter((x) => x.kind === kind)) {
      const cliOnly = kind === 'filter' && registry.filter(c.name).cliOnly ? ' (CLI only)' : '';
      lines.push(`  ${c.name.padEnd(14)} ${c.summary}${cliOnly}`);
      for (const p of c.params) {
        const dflt = p.default !== undefined ? ` (default ${p.default})` : p.required ? ' (required)' : '';
        lines.push(`      ${`${p.key}=`.padEnd(18)} ${p.description}${dflt}`);
      }
    }
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(`${USAGE}\n${tlsHelp()}\n${await componentHelp()}`);
      return 0;
    }
    switch (command) {
      case 'serve': {
        const [{ serveCommand }, { demoImagePath }] = await Promise.all([import('./serve.ts'), import('./demo.ts')]);
        return await serveCommand(rest, demoImagePath);
      }
      case 'map':
        return await (await import('./map.ts')).mapCommand(rest);
      case 'compare':
        return await (await import('./compare.ts')).compareCommand(rest);
      case 'info':
        return await (await import('./info.ts')).infoCommand(rest);
      case 'ui':
        return await (await import('./ui.ts')).uiCommand(rest);
      case 'app':
        return await (await import('./ui.ts')).appCommand(rest);
      case '--version':
      case 'version':
        console.log(`blockscope ${process.env.npm_package_version ?? '0.1.0'}`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(`${USAGE}\n${tlsHelp()}\n${await componentHelp()}`);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (serve, map, info, compare, ui, app)`);
    }
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    console.error(`blockscope: ${msg}`);
    if (process.env.BLOCKSCOPE_DEBUG) console.error(err);
    if (err instanceof UsageError) console.error("try 'blockscope --help'");
    return err instanceof UsageError ? 2 : 1;
  }
}
