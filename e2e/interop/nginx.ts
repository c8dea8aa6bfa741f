// Debian's nginx started by a test, never as the system service: a generated config in a
// temp folder (pid, logs and temp paths inside it), 127.0.0.1 on free ports, plain HTTP and
// HTTPS, a /norange/ location with Range disabled, and an access log that records the bytes
// each request sent (so a test can tell how much of an image a client fetched).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export interface Nginx {
  http: string;
  https: string;
  /** Every request so far: path, status and bytes sent (headers included). */
  log(): { path: string; status: number; bytes: number }[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function listening(port: number, child: ChildProcess, errors: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}:\n${errors()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(true)).on('error', () => resolve(false));
      s.once('connect', () => s.end());
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not listen on ${port}:\n${errors()}`);
}

/** Serve `root` (its files readable by nginx's workers) with the server certificate in `tlsDir`. */
export async function startNginx(prefix: string, root: string, tlsDir: string): Promise<Nginx> {
  // Workers run as an unprivileged user: the folders on the way must be searchable.
  mkdirSync(prefix, { recursive: true });
  for (const dir of [prefix, root]) chmodSync(dir, 0o755);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const at = (name: string) => path.join(prefix, name);
  mkdirSync(at('temp'), { recursive: true });
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${at(`temp/${t}`)};`).join('\n');
  writeFileSync(at('nginx.conf'), `worker_processes 1;
pid ${at('nginx.pid')};
error_log ${at('error.log')} warn;
events { worker_connections 256; }
http {
  default_type application/octet-stream;
  log_format sent '$uri $status $bytes_sent';
  access_log ${at('access.log')} sent;
${temps}
  server {
    listen 127.0.0.1:${httpPort};
    listen 127.0.0.1:${httpsPort} ssl;
    ssl_certificate ${path.join(tlsDir, 'server-cert.pem')};
    ssl_certificate_key ${path.join(tlsDir, 'server-key.pem')};
    root ${root};
    location /norange/ { alias ${root}/; max_ranges 0; }
  }
}
`);
  writeFileSync(at('access.log'), '');
  let errors = '';
  const child = spawn('nginx', ['-c', at('nginx.conf'), '-p', prefix, '-e', at('error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => (errors += d.toString()));
  const errorText = () => `${errors}${readFileSync(at('error.log'), 'utf8')}`;
  await listening(httpPort, child, errorText);
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://127.0.0.1:${httpsPort}`,
    log: () => readFileSync(at('access.log'), 'utf8').split('\n').filter(Boolean).map((line) => {
      const [p, status, bytes] = line.split(' ');
      return { path: p!, status: Number(status), bytes: Number(bytes) };
    }),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGQUIT');
    }),
  };
}
