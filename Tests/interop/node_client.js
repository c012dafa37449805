// Interop: Node's `ws` (Debian package node-ws) against /echo.
// Usage: NODE_PATH=/usr/share/nodejs node node_client.js HOST PORT
'use strict';
const WebSocket = require('ws');

const [host, port] = process.argv.slice(2);
const sizes = [0, 125, 126, 65535, 65536, 1 << 20];
let failures = 0;
function check(ok, what) {
  console.log(`node-ws: ${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}

function open(path) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}${path}`, { maxPayload: 0, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function roundTrip(ws, payload, binary) {
  return new Promise((resolve) => {
    ws.once('message', (data, isBinary) => resolve({ data, isBinary }));
    ws.send(payload, { binary });
  });
}

async function main() {
  const ws = await open('/echo');
  for (const n of sizes) {
    const text = 'x'.repeat(n);
    let r = await roundTrip(ws, text, false);
    check(!r.isBinary && r.data.toString('utf8') === text, `text echo ${n} bytes`);
    const bin = Buffer.alloc(n);
    for (let i = 0; i < n; i++) bin[i] = (i * 13) & 0xff;
    r = await roundTrip(ws, bin, true);
    check(r.isBinary && Buffer.compare(r.data, bin) === 0, `binary echo ${n} bytes`);
  }
  const pong = await new Promise((resolve) => {
    ws.once('pong', (data) => resolve(data));
    ws.ping(Buffer.from('node-ping'));
  });
  check(pong.toString() === 'node-ping', 'ping answered with matching pong');
  const closed = await new Promise((resolve) => {
    ws.once('close', (code) => resolve(code));
    ws.close(1000, 'bye');
  });
  check(closed === 1000, `close 1000 echoed (got ${closed})`);

  const ws2 = await open('/echo');
  const code2 = await new Promise((resolve) => {
    ws2.once('close', (code) => resolve(code));
    ws2.close(3999);
  });
  check(code2 === 3999, `application close code 3999 echoed (got ${code2})`);

  console.log(`node-ws: ${failures === 0 ? 'all checks passed' : failures + ' check(s) failed'}`);
  process.exit(failures ? 1 : 0);
}

main().catch((e) => {
  console.log(`node-ws: FAIL ${e.stack || e}`);
  process.exit(1);
});
