// The backend every proxy in `npm run bench:edge` forwards to: the smallest useful Node answer,
// so the proxies' own cost dominates. Usage: node bench-backend.js <port>
import http from 'node:http';

const port = Number(process.argv[2]);
const body = Buffer.from('hello from a berth instance\n');
http
  .createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
    res.end(body);
  })
  .listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
