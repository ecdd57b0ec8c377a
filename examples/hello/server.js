// The example app: a dependency-free HTTP server on $PORT that says which instance and
// release answered, with /healthz for berth's probes.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const instance = process.env.BERTH_INSTANCE ?? 'local';
const release = process.env.BERTH_RELEASE ?? 'dev';

const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`hello from berth: instance=${instance} release=${release}\n`);
});

server.listen(port, () => {
  console.log(`hello listening on :${port} (instance=${instance} release=${release})`);
});

// Finish in-flight requests, then exit: berth sends SIGTERM and waits out the grace period.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
