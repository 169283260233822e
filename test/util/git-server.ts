/**
 * A Git smart-HTTP server on loopback for tests: `git http-backend` (CGI) over
 * the bare repositories under a directory, as a Git host serves them: a missing
 * repository answers 404, wrong or missing credentials 401.
 */
import { spawn } from 'child_process';
import * as http from 'http';
import { httpServer, LocalServer } from './servers';

/** Options of a Git server. */
export interface GitServerOptions {
  /** Basic-auth user and password every request must carry. @default - anonymous */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** Serves the bare repositories under `projectRoot` at http://127.0.0.1:PORT/NAME. */
export async function gitHttpServer(projectRoot: string, options: GitServerOptions = {}): Promise<LocalServer & { readonly requests: string[] }> {
  return httpServer(gitHttpHandler(projectRoot, options));
}

/** The request handler of `gitHttpServer`, for a server of the caller's (e.g. HTTPS). */
export function gitHttpHandler(projectRoot: string, options: GitServerOptions = {}): http.RequestListener {
  const expected = options.auth && `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (expected && req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: projectRoot,
        // A host serves repositories whoever owns them on disk.
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'safe.directory',
        GIT_CONFIG_VALUE_0: '*',
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
        REMOTE_USER: options.auth?.username ?? '',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    // CGI answer: header lines ("Status: 404 Not Found" among them), a blank line, the body.
    let head = Buffer.alloc(0);
    let inBody = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (inBody) { res.write(chunk); return; }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      inBody = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on('end', () => res.end());
    cgi.on('error', () => { res.writeHead(500); res.end(); });
  };
}
