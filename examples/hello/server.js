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
  // how long the app took to start, from the process's own start: berth's bench:agent reads it
  console.log(`hello listening on :${port} (instance=${instance} release=${release}), ${performance.now().toFixed(1)} ms after start`);
});

// Finish in-flight requests, then exit: berth sends SIGTERM and waits out the grace period.
process.on('SIGTERM', () => server.close(() => process.exit(0)));
