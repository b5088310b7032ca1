// A Playwright browser server shared by the test processes of one run (cargo-nextest runs every
// trial in its own process). Started by `src/browser/server.rs` (embedded there, run with
// `node --input-type=module -e`), detached in its own process group, never by hand.
//
// Configuration: JSON in CONSENT_GATES_BROWSER_SERVER_CONFIG:
//   { "package": "<playwright-core folder>", "executablePath": "...", "args": [...],
//     "chromiumSandbox": true, "idleMs": 5000 }
// Prints exactly one line on stdout, {"wsEndpoint": "...", "pid": N, "sandboxed": bool}, and
// nothing after it (the reader closes the pipe); diagnostics go to stderr (a log file). A sandboxed
// launch that Chromium refuses is retried without the sandbox ("sandboxed": false says so).
//
// nextest has no global teardown, so the server ends itself: when no client has been connected
// for `idleMs` (counted from the start, and from the last client leaving) it stops accepting,
// closes Chromium and exits. It also exits when Chromium dies, and on SIGTERM / SIGINT / SIGHUP.
import dc from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import path from 'node:path';

const config = JSON.parse(process.env.CONSENT_GATES_BROWSER_SERVER_CONFIG || '{}');
const log = (message) => process.stderr.write(`${new Date().toISOString()} [${process.pid}] ${message}\n`);
const require = createRequire(path.join(config.package, 'package.json'));
const { chromium } = require(config.package);

// Every TCP connection accepted by this process is a client of the Playwright server: it is the
// only TCP server here (Chromium is driven over pipes).
let clients = 0;
let idleTimer;
let closing = false;
let server;

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (clients === 0) shutDown('idle', 0);
  }, config.idleMs ?? 5000);
}

dc.subscribe('net.server.socket', ({ socket }) => {
  if (closing) {
    socket.destroy();
    return;
  }
  clients += 1;
  clearTimeout(idleTimer);
  log(`client connected (${clients} connected)`);
  socket.once('close', () => {
    clients -= 1;
    log(`client left (${clients} connected)`);
    if (clients === 0) armIdle();
  });
});

async function shutDown(why, code) {
  if (closing) return;
  closing = true;
  log(`closing: ${why}`);
  // Bounded: a Chromium that does not close is killed.
  const killer = setTimeout(() => {
    server?.kill();
    process.exit(code);
  }, 5000);
  try {
    await server?.close();
  } catch (e) {
    log(`close failed: ${e}`);
  }
  clearTimeout(killer);
  process.exit(code);
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => shutDown(signal, 0));

const launch = (chromiumSandbox) => chromium.launchServer({
  executablePath: config.executablePath,
  args: config.args,
  headless: true,
  chromiumSandbox,
  host: '127.0.0.1',
  port: 0,
});
let sandboxed = config.chromiumSandbox === true;
try {
  try {
    server = await launch(sandboxed);
  } catch (e) {
    if (!sandboxed || !/sandbox/i.test(String(e.message || e))) throw e;
    log(`Chromium did not start with its sandbox, retrying without: ${e.message || e}`);
    sandboxed = false;
    server = await launch(false);
  }
} catch (e) {
  log(`cannot launch Chromium: ${e}`);
  process.stdout.write(`${JSON.stringify({ error: String(e.message || e) })}\n`);
  process.exit(1);
}
server.on('close', () => shutDown('Chromium closed', closing ? 0 : 1));
log(`listening on ${server.wsEndpoint()}`);
process.stdout.write(`${JSON.stringify({ wsEndpoint: server.wsEndpoint(), pid: process.pid, sandboxed })}\n`);
armIdle();
