#!/usr/bin/env node
// End-to-end tests of Hibari with the real Sora JavaScript SDK in headless Debian Chromium (see README.md).
//
//   node tests/e2e/run.mjs [--only a,b] [--selftest] [--list] [--no-netns] [--trace] [--keep-logs] [--timeout-ms N] [--watchdog-ms N]
//
// Starts every Hibari.Server it needs (own temp data_dir/log_dir, free ports on 127.0.0.1), serves the test page
// itself, runs the scenarios, prints `PASS name (ms)` / `FAIL name: why` and `e2e: N passed, M failed`, and exits
// non-zero on any failure. Every process it starts is stopped by PID at the end, on SIGINT/SIGTERM and by a watchdog.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const DLL = process.env.HIBARI_SERVER_DLL ? path.resolve(process.env.HIBARI_SERVER_DLL) : path.join(REPO, 'src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll');
// The release artefact (scripts/package.sh) the `published_binary` scenario starts; without it that scenario is not run.
const PUBLISHED = process.env.HIBARI_PUBLISHED_DIR ? path.resolve(process.env.HIBARI_PUBLISHED_DIR) : null;
const NETNS_MARK = 'HIBARI_E2E_IN_NETNS';

// ---------------------------------------------------------------------------------------------- arguments
const argv = process.argv.slice(2);
const opt = { only: null, list: false, netns: true, trace: false, keepLogs: false, timeoutMs: 30000, watchdogMs: 15 * 60000 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--only') opt.only = argv[++i]?.split(',').filter(Boolean);
  else if (a.startsWith('--only=')) opt.only = a.slice(7).split(',').filter(Boolean);
  else if (a === '--list') opt.list = true;
  else if (a === '--no-netns') opt.netns = false;
  else if (a === '--trace') opt.trace = true;
  else if (a === '--selftest') opt.selftest = true;
  else if (a === '--keep-logs') opt.keepLogs = true;
  else if (a === '--timeout-ms') opt.timeoutMs = Number(argv[++i]);
  else if (a === '--watchdog-ms') opt.watchdogMs = Number(argv[++i]);
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (!(opt.timeoutMs > 0) || !(opt.watchdogMs > 0)) { console.error('--timeout-ms and --watchdog-ms need a positive number'); process.exit(2); }

// ---------------------------------------------------------------------------------------------- network namespace
// Chromium and the servers run in a private network namespace with only `lo` up, so that nothing can leave the
// machine and Chromium offers 127.0.0.1 only (docs/protocol-notes.md, "Loopback candidates" and "Chrome interop checklist" 12).
if (opt.netns && !opt.list && !process.env[NETNS_MARK]) {
  // As root `unshare -n`; otherwise try a user namespace too (`unshare -r -n`).
  const flags = [['-n'], ['-r', '-n']].find(f => spawnSync('unshare', [...f, 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' }).status === 0);
  if (flags) {
    const child = spawn('unshare', [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, [NETNS_MARK]: '1' } });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
    // Everything else happens in the child.
    await new Promise(() => {});
  } else {
    console.error('e2e: `unshare -n` + `ip link set lo up` not available (needs root or user namespaces, and iproute2); running in the host network namespace');
  }
}
const inNetns = !!process.env[NETNS_MARK];

// ---------------------------------------------------------------------------------------------- helpers
const sleep = ms => new Promise(r => setTimeout(r, ms));
const short = (v, n = 400) => { const s = typeof v === 'string' ? v : JSON.stringify(v); return s && s.length > n ? s.slice(0, n) + '…' : s; };

class Failure extends Error {}
function check(cond, why) { if (!cond) throw new Failure(why); }

/** Polls `fn` until it returns a truthy value; fails with `what` (plus the last value seen) after `ms`. */
async function until(what, fn, { ms = opt.timeoutMs, every = 250, detail } = {}) {
  const deadline = Date.now() + ms;
  let last, lastErr;
  while (Date.now() < deadline) {
    try {
      // A call that hangs (e.g. a renderer that stopped answering) is cut off at the deadline too.
      last = await Promise.race([fn(), sleep(Math.max(0, deadline - Date.now())).then(() => undefined)]);
      if (last) return last;
    } catch (e) {
      if (e instanceof Failure) throw e;
      lastErr = e;
    }
    await sleep(every);
  }
  const d = detail ? await Promise.resolve(detail()).catch(e => `detail failed: ${e}`) : lastErr ? String(lastErr) : short(last);
  throw new Failure(`timeout after ${ms} ms waiting for ${what}${d ? ` (${short(d, 1200)})` : ''}`);
}

/**
 * A free TCP (and, with udp, also free UDP) port on 127.0.0.1. With udp the next UDP_SPAN - 1 ports are free too:
 * media worker k of a node listens on rtc_udp_port + k (docs/decisions.md D-29).
 */
const taken = new Set();
const UDP_SPAN = 4;
// Ports other tests of the suite use on the host: the multi-process tests' 29000–31200 and the cluster ports
// 49010–49020 (fixed, also taken by the cluster scenarios). Never handed out, also for a run with --no-netns.
const reserved = p => (p >= 29000 && p <= 31200) || (p >= 49010 && p <= 49020);
async function freePort(udp = false) {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((res, rej) => {
      const s = net.createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    });
    if (taken.has(port) || reserved(port) || (udp && reserved(port + UDP_SPAN - 1))) continue;
    if (udp) {
      let ok = port + UDP_SPAN <= 65536;
      for (let k = 0; ok && k < UDP_SPAN; k++) {
        if (taken.has(port + k)) { ok = false; break; }
        ok = await new Promise(res => {
          const u = dgram.createSocket('udp4');
          u.once('error', () => { u.close(); res(false); });
          u.bind(port + k, '127.0.0.1', () => u.close(() => res(true)));
        });
      }
      if (!ok) continue;
      for (let k = 1; k < UDP_SPAN; k++) taken.add(port + k);
    }
    taken.add(port);
    return port;
  }
  throw new Error('no free port');
}

// ---------------------------------------------------------------------------------------------- process tracking
const children = new Set(); // { pid, name, proc }
let browser = null;
let cleaning = null;
let tmpRootDir = null;
const tmpRoot = () => (tmpRootDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'hibari-e2e-')));
let aborted = false;
const tally = { passed: 0, failed: 0 };

function killTree(pid, sig) { try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } } }
const alive = pid => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function cleanup() {
  cleaning ??= (async () => {
    if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
    for (const c of children) killTree(c.pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while ([...children].some(c => alive(c.pid)) && Date.now() < deadline) await sleep(100);
    for (const c of children) if (alive(c.pid)) killTree(c.pid, 'SIGKILL');
    if (tmpRootDir && !opt.keepLogs) fs.rmSync(tmpRootDir, { recursive: true, force: true });
    else if (tmpRootDir) console.error(`e2e: logs kept in ${tmpRootDir}`);
  })();
  return cleaning;
}
process.on('exit', () => { for (const c of children) if (alive(c.pid)) killTree(c.pid, 'SIGKILL'); });
async function abort(line, rc) {
  if (aborted) return;
  aborted = true;
  console.log(line);
  console.log(`e2e: ${tally.passed} passed, ${tally.failed + 1} failed`);
  await cleanup();
  process.exit(rc);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => abort(`FAIL interrupted: ${sig}; stopped every process started`, 130));
const watchdog = setTimeout(() => abort(`FAIL watchdog: the whole run exceeded ${opt.watchdogMs} ms; stopped every process started`, 3), opt.watchdogMs);
watchdog.unref();

// ---------------------------------------------------------------------------------------------- Hibari nodes
class Node {
  /** `command` is what runs `args`: `dotnet` with the DLL first, or a published apphost (`published_binary`). */
  constructor(name, ports, dir, args, ip = '127.0.0.1', command = 'dotnet') { Object.assign(this, { name, ...ports, dir, args, ip, command }); this.proc = null; this.exited = null; }
  get signalingUrl() { return `ws://${this.ip}:${this.signalingPort}/signaling`; }
  get apiUrl() { return `http://${this.ip}:${this.apiPort}/`; }
  get pageBase() { return `http://${this.ip}:${this.signalingPort}`; }
  log() { try { return fs.readFileSync(path.join(this.dir, 'stdout.log'), 'utf8'); } catch { return ''; } }
  logTail(n = 15) { return this.log().trimEnd().split('\n').slice(-n).join('\n'); }

  /** Starts the process (again, after a kill: same args, same data_dir; stdout.log is appended to). */
  spawn() {
    check(!this.proc || this.exited, `${this.name} is already running`);
    const out = fs.openSync(path.join(this.dir, 'stdout.log'), 'a');
    const proc = spawn(this.command, this.args, { cwd: this.dir, stdio: ['ignore', out, out], detached: true, env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' } });
    fs.closeSync(out);
    this.proc = proc; this.exited = null;
    const entry = { pid: proc.pid, name: this.name, proc };
    children.add(entry);
    proc.on('exit', (code, sig) => { if (this.proc === proc) this.exited = { code, sig }; children.delete(entry); });
  }

  async api(target, body = {}) {
    const r = await fetch(this.apiUrl, {
      method: 'POST', headers: { 'x-sora-target': target, 'content-type': 'application/json' },
      body: JSON.stringify(body), signal: AbortSignal.timeout(10000),
    });
    const text = await r.text();
    let json = null; try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text };
  }

  async metrics() {
    const r = await fetch(`${this.apiUrl}metrics`, { signal: AbortSignal.timeout(10000) });
    return r.status === 200 ? r.text() : '';
  }
  async available() { return /^hibari_available 1$/m.test(await this.metrics().catch(() => '')); }

  async waitApi() {
    await until(`${this.name}: API GetLicense → 200 on ${this.ip}:${this.apiPort}`, async () => {
      if (this.exited) throw new Failure(`${this.name} exited (${JSON.stringify(this.exited)}) before its API answered:\n${this.logTail()}`);
      return (await this.api('Sora_20171218.GetLicense').catch(() => ({ status: 0 }))).status === 200;
    }, { every: 200, detail: () => this.logTail(5) });
  }

  /** SIGKILL to the node's process group; resolves once the process is gone. */
  async kill() {
    if (!this.proc || this.exited) return;
    killTree(this.proc.pid, 'SIGKILL');
    await until(`${this.name} to die (SIGKILL)`, () => this.exited, { ms: 10000, every: 20 });
  }

  async stop() {
    if (!this.proc || this.exited) return;
    killTree(this.proc.pid, 'SIGTERM');
    await until(`${this.name} to exit`, () => this.exited, { ms: 10000, every: 100 }).catch(() => killTree(this.proc.pid, 'SIGKILL'));
  }
}

/**
 * A node process (not waited for): `ip` is its listen_address; `ports` default to free ports on 127.0.0.1. With `exe`
 * the node is that executable (a published apphost) instead of `dotnet DLL`; `config` is a hibari.conf given with
 * --config (the `--set`s still apply after it).
 */
async function makeNode(name, sets = {}, { ip = '127.0.0.1', ports = null, exe = null, config = null } = {}) {
  if (exe) check(fs.existsSync(exe), `server executable ${exe} is missing`);
  else check(fs.existsSync(DLL), `server not built: ${DLL} is missing (dotnet build -c Release, or set HIBARI_SERVER_DLL)`);
  ports ??= { apiPort: await freePort(), signalingPort: await freePort(), rtcUdpPort: await freePort(true) };
  const dir = fs.mkdtempSync(path.join(tmpRoot(), `${name}-`));
  fs.mkdirSync(path.join(dir, 'data')); fs.mkdirSync(path.join(dir, 'log'));
  const all = {
    listen_address: ip, api_port: ports.apiPort, signaling_port: ports.signalingPort, rtc_udp_port: ports.rtcUdpPort,
    // TURN (D-57) on any free ports, so nodes of a scenario may share an address; a scenario may set fixed ones.
    turn_udp_port: 0, turn_tcp_listen_port: 0,
    data_dir: path.join(dir, 'data'), log_dir: path.join(dir, 'log'), session_destroy_delay_ms: 500, ...(process.env.HIBARI_E2E_LOG_LEVEL ? { log_level: process.env.HIBARI_E2E_LOG_LEVEL } : {}), ...sets,
  };
  const args = [...(exe ? [] : [DLL]), ...(config ? ['--config', config] : []), ...Object.entries(all).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
  return new Node(name, ports, dir, args, ip, exe ?? 'dotnet');
}

async function startNode(name, sets = {}, how = {}) {
  const node = await makeNode(name, sets, how);
  node.spawn();
  await node.waitApi();
  return node;
}

// ---------------------------------------------------------------------------------------------- Hibari clusters
// Three regular nodes n1..n3 on 127.0.0.1..3 (all of 127/8 is `lo`; one IP each, the same ports), settings as in
// tests/Hibari.Tests/MultiProcess (ClusterHarness, NodeProcess): InitCluster on n1, then polled until every node
// reports `hibari_available 1` on GET /metrics.
const CLUSTER_SECRET = 'e2e-cluster-secret';
const CLUSTER_SIZE = 3;
async function startCluster(prefix, sets = {}, created = () => {}) {
  const ports = { apiPort: await freePort(), signalingPort: await freePort(), rtcUdpPort: await freePort(true) };
  const nodes = [];
  for (let i = 1; i <= CLUSTER_SIZE; i++) {
    const ip = `127.0.0.${i}`;
    nodes.push(await makeNode(`${prefix}-n${i}`, {
      cluster: true, cluster_secret: CLUSTER_SECRET, node_name: `n${i}@${ip}`,
      external_signaling_url: `ws://${ip}:${ports.signalingPort}/signaling`, external_api_url: `http://${ip}:${ports.apiPort}/`, ...sets,
    }, { ip, ports }));
    nodes[i - 1].nodeName = `n${i}@${ip}`;
  }
  created(nodes);
  for (const n of nodes) n.spawn();
  await Promise.all(nodes.map(n => n.waitApi()));
  const init = await nodes[0].api('Sora_20221221.InitCluster', { node_name_list: nodes.map(n => n.nodeName) });
  check(init.status === 200, `InitCluster on ${nodes[0].name} → ${init.status} ${short(init.text)}`);
  await waitAvailable(nodes);
  return nodes;
}
async function waitAvailable(nodes, ms = opt.timeoutMs) {
  await Promise.all(nodes.map(n => until(`${n.name}: GET /metrics to show hibari_available 1`, async () => {
    if (n.exited) throw new Failure(`${n.name} exited (${JSON.stringify(n.exited)}):\n${n.logTail()}`);
    return n.available();
  }, { ms, every: 200, detail: () => n.logTail(5) })));
}
/** The owners (node names) of `channel` in ListClusterChannels on `on`. */
async function ownersOf(on, channel) {
  const r = await on.api('Sora_20211215.ListClusterChannels');
  check(r.status === 200 && Array.isArray(r.json), `ListClusterChannels on ${on.name} → ${r.status} ${short(r.text)}`);
  return (r.json.find(c => c.channel_id === channel)?.owners ?? []).map(o => o.node_name).sort();
}

// ---------------------------------------------------------------------------------------------- runner's http server
// Serves the harness page and /sora.js, answers the auth webhook (/auth/<mode>), and, with --trace, relays
// signaling through /sig/<port> while recording every message (printed when a scenario fails).
const { WebSocketServer, WebSocket } = await import('ws');
const authCalls = [];
// Session and event webhooks sent to /hook/<name> (the recording scenarios read them), answered 200 {}.
const hookCalls = [];
const trace = [];
const files = {
  '/': ['page.html', 'text/html; charset=utf-8'],
  '/page.html': ['page.html', 'text/html; charset=utf-8'],
  '/sora.js': ['node_modules/sora-js-sdk/dist/sora.js', 'text/javascript; charset=utf-8'],
};
const httpServer = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname.startsWith('/auth/')) {
    let body = '';
    req.on('data', d => { body += d; });
    req.on('end', () => {
      let json = null; try { json = JSON.parse(body); } catch { /* recorded as text */ }
      authCalls.push({ path: u.pathname, headers: req.headers, body: json ?? body });
      // /auth/rpc hands out rpc_methods (the rpc data channel, D-36), one of them unknown to Hibari.
      const answer = u.pathname === '/auth/deny' ? { allowed: false, reason: 'TEST-DENIED' }
        : u.pathname === '/auth/rpc' ? { allowed: true, rpc_methods: ['2025.2.0/RequestSimulcastRid', '2099.1.0/NoSuchMethod'] }
        // /auth/metarpc: the metadata extension's rpc method (D-52).
        : u.pathname === '/auth/metarpc' ? { allowed: true, rpc_methods: ['2025.2.0/PutSignalingNotifyMetadataItem'] }
        : { allowed: true };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    return;
  }
  if (u.pathname.startsWith('/hook/')) {
    let body = '';
    req.on('data', d => { body += d; });
    req.on('end', () => {
      let json = null; try { json = JSON.parse(body); } catch { /* recorded as text */ }
      hookCalls.push({ path: u.pathname, headers: req.headers, body: json ?? body, at: Date.now() });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    return;
  }
  if (u.pathname === '/favicon.ico') { res.writeHead(204).end(); return; }
  const f = files[u.pathname];
  if (!f) { res.writeHead(404).end(); return; }
  fs.readFile(path.join(HERE, f[0]), (err, buf) => {
    if (err) { res.writeHead(500).end(String(err)); return; }
    res.writeHead(200, { 'content-type': f[1], 'cache-control': 'no-store' }).end(buf);
  });
});
const wss = new WebSocketServer({ noServer: true });
httpServer.on('upgrade', (req, socket, head) => {
  const m = /^\/sig\/(?:(127\.\d+\.\d+\.\d+)\/)?(\d+)$/.exec(new URL(req.url, 'http://x').pathname);
  if (!m) { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, client => relay(client, m[1] ?? '127.0.0.1', Number(m[2])));
});
let relayId = 0;
function relay(client, ip, port) {
  const id = ++relayId, t0 = Date.now(), log = (dir, what) => trace.push(`+${Date.now() - t0}ms #${id} ${dir} ${what}`);
  const upstream = new WebSocket(`ws://${ip}:${port}/signaling`);
  const pending = [];
  upstream.on('open', () => { log('--', 'upstream open'); for (const m of pending.splice(0)) upstream.send(m); });
  client.on('message', (d, bin) => { const m = bin ? d : d.toString(); log('c>s', short(String(m), 300)); upstream.readyState === 1 ? upstream.send(m) : pending.push(m); });
  upstream.on('message', (d, bin) => { const m = bin ? d : d.toString(); log('s>c', short(String(m), 300)); client.send(m); });
  const closeCode = c => (c === 1000 || (c >= 3000 && c <= 4999)) ? c : 1000;
  upstream.on('close', (code, reason) => { log('s>c', `close ${code} '${reason}'`); client.close(closeCode(code), reason); });
  client.on('close', (code, reason) => { log('c>s', `close ${code} '${reason}'`); if (upstream.readyState <= 1) upstream.close(closeCode(code), reason); });
  upstream.on('error', e => { log('--', `upstream error ${e.message}`); client.terminate(); });
  client.on('error', () => upstream.terminate());
}
await new Promise(r => httpServer.listen(0, '127.0.0.1', r));
const HTTP = `http://127.0.0.1:${httpServer.address().port}`;
// (A `redirect` names the node's external_signaling_url, so a redirected connect bypasses the relay.)
const signalingUrlOf = node => opt.trace ? `ws://127.0.0.1:${httpServer.address().port}/sig/${node.ip && node.ip !== '127.0.0.1' ? `${node.ip}/` : ''}${node.signalingPort}` : node.signalingUrl;

// ---------------------------------------------------------------------------------------------- stub node (--selftest)
// Stands in for Hibari in the self-test scenarios, which check the harness itself while the SFU cannot serve yet:
// it serves web/ like the node must (index.html at /, /sora.js from web/node_modules) and a /signaling endpoint that
// records every message and either closes after `connect` with a 4xxx code ('close'), never answers ('silent'), or
// ('peer') answers like a Sora node whose media side is a plain RTCPeerConnection in `peerPage` (one other publisher).
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon' };
const WEB = path.join(REPO, 'web');
const STUB_SELF_ID = 'STUBSELF0000000000000000AA', STUB_PEER_ID = 'STUBPEER0000000000000000BB'; // 26 chars like Sora's ids
async function stubPeer(stub, ws, m, page) {
  const key = 'peer';
  if (m?.type === 'connect') {
    const sdp = await page.evaluate(([k, id]) => window.harness.peerOffer(k, id), [key, STUB_PEER_ID]);
    ws.send(JSON.stringify({ type: 'offer', sdp, connection_id: STUB_SELF_ID, client_id: STUB_SELF_ID, mid: { audio: '0', video: '1' } }));
  } else if (m?.type === 'answer') {
    await page.evaluate(([k, sdp]) => window.harness.peerAnswer(k, sdp), [key, m.sdp]);
    // The self notify (with the peer already present): sora-js-sdk fires `connected` only once it arrived.
    ws.send(JSON.stringify({ type: 'notify', event_type: 'connection.created', role: 'sendrecv', connection_id: STUB_SELF_ID, client_id: STUB_SELF_ID,
      channel_connections: 2, channel_sendrecv_connections: 2, channel_sendonly_connections: 0, channel_recvonly_connections: 0 }));
  } else if (m?.type === 're-answer') {
    await page.evaluate(([k, sdp]) => window.harness.peerAnswer(k, sdp), [key, m.sdp]);
  } else if (m?.type === 'candidate') {
    await page.evaluate(([k, c]) => window.harness.peerCandidate(k, c), [key, { candidate: m.candidate, sdpMid: m.sdpMid, sdpMLineIndex: m.sdpMLineIndex }]);
  }
}
/** The stub's other publisher leaves: `re-offer` without its tracks, then notify connection.destroyed. */
async function stubPeerLeave(stub, page) {
  const sdp = await page.evaluate(([k, id]) => window.harness.peerLeave(k, id), ['peer', STUB_PEER_ID]);
  for (const ws of stub.sockets) {
    ws.send(JSON.stringify({ type: 're-offer', sdp }));
    ws.send(JSON.stringify({ type: 'notify', event_type: 'connection.destroyed', role: 'sendrecv', connection_id: STUB_PEER_ID, client_id: STUB_PEER_ID,
      channel_connections: 1, channel_sendrecv_connections: 1, channel_sendonly_connections: 0, channel_recvonly_connections: 0 }));
  }
}
async function startStubNode(name, behavior, peerPage = null) {
  const port = await freePort();
  const stub = { name, signalingPort: port, received: [], closes: [], logLines: [], exited: null };
  const log = line => stub.logLines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
  const srv = http.createServer((req, res) => {
    const u = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const rel = u === '/' ? 'index.html' : u === '/sora.js' ? 'node_modules/sora-js-sdk/dist/sora.js' : path.normalize(u).replace(/^[/\\]+/, '');
    const f = path.join(WEB, rel);
    if (!f.startsWith(WEB + path.sep) || rel.startsWith('node_modules/') && u !== '/sora.js') { res.writeHead(404).end(); return; }
    fs.readFile(f, (err, buf) => {
      log(`GET ${u} → ${err ? 404 : 200}`);
      if (err) { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-type': MIME[path.extname(f)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(buf);
    });
  });
  const stubWss = new WebSocketServer({ server: srv, path: '/signaling' });
  stub.sockets = stubWss.clients;
  stubWss.on('connection', ws => {
    log('ws open');
    ws.on('message', d => {
      let m = null; try { m = JSON.parse(d.toString()); } catch { /* kept as null */ }
      stub.received.push(m);
      log(`ws message ${short(d.toString(), 200)}`);
      if (m?.type === 'connect' && behavior === 'close') ws.close(4503, 'STUB-MEDIA-ENGINE-UNAVAILABLE');
      if (behavior === 'peer') stubPeer(stub, ws, m, peerPage).catch(e => { log(`peer error ${e.message}`); ws.close(4500, 'STUB-PEER-ERROR'); });
    });
    ws.on('close', (code, reason) => { stub.closes.push({ code, reason: String(reason) }); log(`ws close ${code} '${reason}'`); });
  });
  await new Promise(r => srv.listen(port, '127.0.0.1', r));
  Object.assign(stub, {
    signalingUrl: `ws://127.0.0.1:${port}/signaling`,
    pageBase: `http://127.0.0.1:${port}`,
    logTail: (n = 15) => stub.logLines.slice(-n).join('\n'),
    stop: async () => { for (const c of stubWss.clients) c.terminate(); stubWss.close(); srv.closeAllConnections?.(); await new Promise(r => srv.close(r)); stub.exited = { code: 0 }; },
  });
  return stub;
}

// ---------------------------------------------------------------------------------------------- browser
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];
async function getBrowser() {
  if (browser) return browser;
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run tests/e2e/install.sh`);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: opt.timeoutMs,
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  return browser;
}

/** A new page on the harness, with sora-js-sdk loaded; console errors are collected for failure messages. */
async function harnessPage(ctx, label, inBrowser = null) {
  const b = inBrowser ?? await getBrowser();
  const context = await b.newContext();
  ctx.closers.push(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(opt.timeoutMs);
  page.on('console', m => { if (m.type() === 'error') ctx.console.push(`[${label}] ${m.text()}`); });
  page.on('pageerror', e => ctx.console.push(`[${label}] pageerror ${e.message}`));
  await page.goto(`${HTTP}/page.html`);
  await until(`${label}: sora-js-sdk to load in the page`, () => page.evaluate(() => {
    if (window.harnessError) throw new Error(window.harnessError);
    return window.harness?.version;
  }), { every: 100 });
  return page;
}

/** A sora-js-sdk client in `page`. Returns a handle with helpers; `start` resolves once connect() settled. */
/** `node` may be an array of nodes: the SDK is then given all their URLs (C-CLIENT-1). */
async function client(ctx, page, name, node, { channel, role = 'sendrecv', metadata = null, options = {}, source = {} }) {
  const url = Array.isArray(node) ? node.map(signalingUrlOf) : signalingUrlOf(node);
  const s = await page.evaluate(([n, o]) => window.harness.start(n, o),
    [name, { url, channel, role, metadata, options, timeoutMs: opt.timeoutMs, source }]);
  const h = {
    name, page, first: s,
    summary: () => page.evaluate(n => window.harness.summary(n), name),
    stop: () => page.evaluate(n => window.harness.stop(n), name),
    outbound: () => page.evaluate(n => window.harness.outbound(n), name),
    inboundCodecs: from => page.evaluate(([n, f]) => window.harness.inboundCodecs(n, f), [name, from]),
    listen: from => page.evaluate(([n, f]) => window.harness.listen(n, f), [name, from]),
    setTrackEnabled: (kind, enabled) => page.evaluate(([n, k, e]) => window.harness.setTrackEnabled(n, k, e), [name, kind, enabled]),
    rpc: (method, params, options) => page.evaluate(([n, m, p, o]) => window.harness.rpc(n, m, p, o), [name, method, params, options]),
  };
  ctx.clients.push(h);
  return h;
}

function connectedOrWhy(s) {
  if (s.state === 'connected') return null;
  const e = s.error ?? {};
  const pc = e.pcState ? ` (pc ${e.pcState}, ice ${e.iceState})` : '';
  return `${s.name} (${s.role}) connect failed: ${e.name ?? ''} code=${e.code} reason='${e.reason ?? ''}' message='${e.message}'${pc}; sdk signaling: ${s.signaling.slice(-12).join(', ')}`;
}
function mustConnect(...ss) { for (const s of ss) { const why = connectedOrWhy(s); check(!why, why); } }
const isConnId = id => typeof id === 'string' && id.length === 26;

// ---------------------------------------------------------------------------------------------- scenarios
const scenarios = [];
// `needs`: an environment variable without which the scenario is left out of the default run (it fails with --only).
const scenario = (name, fn, { selftest = false, bench = false, needs = null } = {}) => scenarios.push({ name, fn, selftest, bench, needs });
const channelName = name => `e2e-${name}-${Date.now().toString(36)}`;

/** Waits until client `h` decodes video frames and receives audio packets from every connection id in `from`. */
async function waitMediaFrom(h, from, what) {
  return until(`${h.name} to decode video and receive audio from ${what ?? from.join(',')}`, async () => {
    const s = await h.summary();
    return from.every(id => (s.inbound[id]?.framesDecoded ?? 0) > 0 && (s.inbound[id]?.audioPackets ?? 0) > 0) && s;
  }, { detail: async () => { const s = await h.summary(); return { pcState: s.pcState, tracks: s.tracks, inbound: s.inbound, disconnects: s.disconnects }; } });
}

scenario('sendrecv_recvonly', async ctx => {
  const node = await ctx.node('n1');
  const channel = channelName('sr');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  check(isConnId(a.first.connectionId), `A connection_id is not 26 chars: ${a.first.connectionId}`);
  const b = await client(ctx, page, 'B', node, { channel, role: 'recvonly' });
  mustConnect(b.first);
  check(isConnId(b.first.connectionId) && b.first.connectionId !== a.first.connectionId, `B connection_id ${b.first.connectionId} (A ${a.first.connectionId})`);
  const sb = await waitMediaFrom(b, [a.first.connectionId], `A (${a.first.connectionId})`);
  check(sb.tracks.some(t => t.streamId === a.first.connectionId && t.kind === 'video') && sb.tracks.some(t => t.streamId === a.first.connectionId && t.kind === 'audio'),
    `B's tracks are not keyed by A's connection id: ${short(sb.tracks)}`);
  // The node sends B a sender report per forwarded track once a second (lip sync; the same timer sends A's receiver
  // reports and REMB). It once stopped on hosts up more than 2.56 h (a µs clock overflow, MediaClock.ToMicros).
  await until('B to get sender reports for A\'s tracks', async () => ((await b.summary()).inbound[a.first.connectionId]?.senderReports ?? 0) > 0,
    { detail: async () => (await b.summary()).inbound });
  // connected fires only after A's own connection.created notify arrived (docs/protocol-notes.md, "Connect sequence" 10).
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  const sa = await a.summary();
  check(sa.notifies.some(n => n.event_type === 'connection.created' && n.connection_id === a.first.connectionId), 'A saw no connection.created for itself');
  check(sa.notifies.some(n => n.event_type === 'connection.created' && n.connection_id === b.first.connectionId), 'A saw no connection.created for B');
  check(Object.keys(sa.inbound).length === 0, `A (only publisher) receives streams: ${short(sa.inbound)}`);
});

// Issue 14 (docs/decisions.md D-56): sora-js-sdk answers a `ping` with `stats: true` with its RTCStats in the pong, and
// GetRtcStats / ListChannelRtcStats show them in Sora's shape.
scenario('rtc_stats', async ctx => {
  const node = await ctx.node('n1', { signaling_ping_interval_ms: 500, rtc_stats_interval_ms: 1000 });
  const channel = channelName('rtcstats');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  let got = null;
  await until('GetRtcStats to return A\'s report with its outbound-rtp', async () => {
    const r = await node.api('Sora_20211215.GetRtcStats', { channel_id: channel, connection_id: a.first.connectionId });
    got = r.json;
    return r.status === 200 && Array.isArray(r.json?.rtc_stats) && r.json.rtc_stats.some(s => s.type === 'outbound-rtp');
  }, { detail: () => short(got) });
  check(got.channel_id === channel && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(got.timestamp), `report fields: ${short(got)}`);
  const list = await node.api('Sora_20211215.ListChannelRtcStats', { channel_id: channel });
  check(list.status === 200 && list.json.length === 1 && list.json[0].connection_id === a.first.connectionId, `ListChannelRtcStats: ${short(list.json)}`);
  console.log(`    rtc_stats: A reported ${got.rtc_stats.length} RTCStats objects (${[...new Set(got.rtc_stats.map(s => s.type))].join(', ')})`);
});

// Forwarding filters (docs/decisions.md D-54): R connects with `forwardingFilters` blocking A's connection_id; it decodes
// B and gets nothing of A over a few seconds.
scenario('forwarding_filter', async ctx => {
  const node = await ctx.node('n1');
  const channel = channelName('ff');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendonly' });
  const b = await client(ctx, page, 'B', node, { channel, role: 'sendonly' });
  mustConnect(a.first, b.first);
  const ida = a.first.connectionId, idb = b.first.connectionId;
  const forwardingFilters = [{ action: 'block', rules: [[{ field: 'connection_id', operator: 'is_in', values: [ida] }]] }];
  const r = await client(ctx, page, 'R', node, { channel, role: 'recvonly', options: { forwardingFilters } });
  mustConnect(r.first);
  await waitMediaFrom(r, [idb], `B (${idb})`);
  await sleep(3000);
  const s = await r.summary();
  check((s.inbound[ida]?.framesDecoded ?? 0) === 0 && (s.inbound[ida]?.audioPackets ?? 0) === 0, `R got media from the blocked A: ${short(s.inbound[ida])}`);
  check(!s.tracks.some(t => t.streamId === ida), `R has tracks of the blocked A: ${short(s.tracks)}`);
  check((s.inbound[idb]?.framesDecoded ?? 0) > 30, `R decodes too little of B: ${short(s.inbound[idb])}`);
});

// Each codec_type the browser can encode: the offer carries only that codec and the subscriber decodes it.
scenario('codecs', async ctx => {
  const node = await ctx.node('n1');
  const page = await harnessPage(ctx, 'page');
  const canSend = await page.evaluate(() => window.harness.sendCodecs());
  const tried = [];
  for (const codec of ['VP8', 'VP9', 'AV1', 'H264']) {
    if (!canSend.includes(codec)) { console.log(`    codecs: this Chromium cannot encode ${codec}; not tried`); continue; }
    const channel = channelName(`codec-${codec.toLowerCase()}`);
    const a = await client(ctx, page, `A-${codec}`, node, { channel, role: 'sendonly', options: { videoCodecType: codec } });
    mustConnect(a.first);
    const b = await client(ctx, page, `B-${codec}`, node, { channel, role: 'recvonly' });
    mustConnect(b.first);
    const sb = await waitMediaFrom(b, [a.first.connectionId], `A-${codec}`);
    const got = sb.inbound[a.first.connectionId].videoCodec;
    check(got === `video/${codec}`, `B decoded ${got}, expected video/${codec}`);
    tried.push(codec);
    await a.stop(); await b.stop();
  }
  check(tried.length >= 3, `fewer than 3 codecs tried: ${tried} (browser can encode ${canSend})`);
});

// Issue 16 (docs/decisions.md D-58): a recording started through the API while one publisher per codec the browser can
// encode sends; after 10 s StopRecording. Every archive is a WebM that ffprobe reads with the publisher's codecs and a
// duration within 0.5 s of the time recorded, and that ffmpeg decodes without an error; the webhooks and the files
// are Sora's (recording.started / archive.started / archive.available / recording.report, archive-*.json, report-*.json).
function ffprobe(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name,width,height', '-of', 'json', file], { encoding: 'utf8' });
  check(r.status === 0, `ffprobe ${file}: exit ${r.status}: ${short(r.stderr)}`);
  return JSON.parse(r.stdout);
}
function ffmpegDecode(file) {
  // Every frame is decoded; `-fps_mode vfr` then keeps the recorded variable frame rate instead of forcing a constant
  // one, whose ticks make the null muxer complain about two frames on one tick (a loaded browser sends frames closer
  // than its average interval) — a complaint about output timestamps, not about decoding.
  const r = spawnSync('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-fps_mode', 'vfr', '-f', 'null', '-'], { encoding: 'utf8' });
  return { ok: r.status === 0 && r.stderr.trim() === '', why: `exit ${r.status}: ${short(r.stderr, 600)}` };
}
async function recordingReport(recordingId, nodeName = null) {
  return until(`recording.report webhook for ${recordingId}${nodeName ? ` from ${nodeName}` : ''}`, () => hookCalls.find(h => h.body?.type === 'recording.report'
    && h.body.data?.recording_id === recordingId && (!nodeName || h.body.node_name === nodeName))?.body,
  { detail: () => hookCalls.map(h => h.body?.type) });
}
function checkArchive(archiveDir, rid, entry, codec, seconds, what, tolerance = 0.5) {
  const file = path.join(archiveDir, rid, `archive-${entry.connection_id}.webm`);
  check(entry.filename === `archive-${entry.connection_id}.webm` && entry.file_path === file, `${what}: report entry ${short(entry)} (expected ${file})`);
  check(fs.existsSync(file) && fs.existsSync(file.replace(/\.webm$/, '.json')), `${what}: ${file} or its .json is missing`);
  const meta = JSON.parse(fs.readFileSync(file.replace(/\.webm$/, '.json'), 'utf8'));
  check(meta.recording_id === rid && meta.connection_id === entry.connection_id && meta.video_codec_type === codec && meta.audio_codec_type === 'OPUS',
    `${what}: metadata ${short(meta)}`);
  const probe = ffprobe(file);
  const names = probe.streams.map(s => s.codec_name).sort();
  const want = [codec === 'H264' ? 'h264' : codec.toLowerCase(), 'opus'].sort();
  check(JSON.stringify(names) === JSON.stringify(want), `${what}: ffprobe streams ${short(probe.streams)}, expected ${want}`);
  const duration = Number(probe.format.duration);
  check(Math.abs(duration - seconds) <= tolerance, `${what}: duration ${duration} s, recorded ${seconds.toFixed(2)} s`);
  const decoded = ffmpegDecode(file);
  check(decoded.ok, `${what}: ffmpeg could not decode every frame: ${decoded.why}`);
  // ffprobe decodes the video track and counts the frames it got: every frame the node wrote.
  const counted = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file],
    { encoding: 'utf8' });
  check(counted.status === 0 && Number(counted.stdout.trim()) === meta.stats.video_frames,
    `${what}: ffprobe decoded ${counted.stdout.trim()} video frames, the archive has ${meta.stats.video_frames} (${short(counted.stderr)})`);
  const v = probe.streams.find(s => s.codec_type === 'video');
  return `${codec} ${v.width}x${v.height} ${duration.toFixed(2)} s`;
}

scenario('recording', async ctx => {
  const archiveDir = fs.mkdtempSync(path.join(tmpRoot(), 'archive-'));
  const node = await ctx.node('n1', { archive_dir: archiveDir, session_webhook_url: `${HTTP}/hook/session`, event_webhook_url: `${HTTP}/hook/event`,
    recording_min_free_disk_space_mb: 0 });
  const page = await harnessPage(ctx, 'page');
  const canSend = await page.evaluate(() => window.harness.sendCodecs());
  const codecs = ['VP8', 'VP9', 'AV1', 'H264'].filter(c => canSend.includes(c));
  check(codecs.length >= 3, `the browser encodes fewer than 3 codecs: ${canSend}`);
  const channel = channelName('rec');
  const pubs = [];
  for (const codec of codecs) {
    const h = await client(ctx, page, `P-${codec}`, node, { channel, role: 'sendonly', options: { videoCodecType: codec } });
    mustConnect(h.first);
    pubs.push([codec, h]);
  }
  const watcher = await client(ctx, page, 'W', node, { channel, role: 'recvonly' });
  mustConnect(watcher.first);
  await waitMediaFrom(watcher, pubs.map(([, h]) => h.first.connectionId), 'every publisher');
  const started = await node.api('Sora_20231220.StartRecording', { channel_id: channel, metadata: { e2e: 'recording' } });
  const t0 = Date.now();
  check(started.status === 200 && typeof started.json?.recording_id === 'string', `StartRecording: ${started.status} ${started.text}`);
  const rid = started.json.recording_id;
  check(started.json.channel_id === channel && started.json.recording_metadata?.e2e === 'recording', `StartRecording answer ${short(started.json)}`);
  const again = await node.api('Sora_20231220.StartRecording', { channel_id: channel });
  check(again.status === 400 && again.json?.error_type === 'RecordingAlreadyStarted', `a second StartRecording: ${again.status} ${again.text}`);
  await sleep(10000);
  const stopped = await node.api('Sora_20231220.StopRecording', { channel_id: channel });
  const seconds = (Date.now() - t0) / 1000;
  check(stopped.status === 200 && stopped.json?.recording_id === rid, `StopRecording: ${stopped.status} ${stopped.text}`);
  const report = await recordingReport(rid);
  check(report.channel_id === channel && report.data.recording_metadata?.e2e === 'recording' && report.data.archives.length === pubs.length
    && report.data.failed_archives.length === 0, `recording.report ${short(report, 1500)}`);
  check(fs.existsSync(path.join(archiveDir, rid, `report-${rid}.json`)), `report-${rid}.json is missing`);
  check(hookCalls.some(h => h.path === '/hook/session' && h.body?.type === 'recording.started' && h.body.data?.recording_id === rid), 'no recording.started session webhook');
  const lines = [];
  for (const [codec, h] of pubs) {
    const cid = h.first.connectionId;
    const entry = report.data.archives.find(a => a.connection_id === cid);
    check(entry && entry.node_name, `no archive of ${codec} (${cid}) in the report`);
    for (const type of ['archive.started', 'archive.available'])
      check(hookCalls.some(x => x.path === '/hook/event' && x.body?.type === type && x.body.connection_id === cid && x.body.data?.recording_id === rid),
        `no ${type} event webhook for ${codec} (${cid})`);
    lines.push(checkArchive(archiveDir, rid, entry, codec, seconds, codec));
  }
  const notes = (await watcher.summary()).notifies.map(n => n.event_type);
  check(notes.includes('recording.started') && notes.includes('recording.stopped'), `the watcher's notifies: ${notes}`);
  console.log(`    recording: ${lines.join('; ')} (recorded ${seconds.toFixed(2)} s)`);
});

// Issue 16 (D-58) across nodes: one channel on three nodes (A on n1, B on n2, relayed both ways). StartRecording sent
// to n3, which holds nothing of the channel yet (307 to a holder, which starts it on every owner); C publishes on n3
// two seconds later (n3's part of the session opens then and learns of the recording); StopRecording on n2. Every node
// records the connections it serves into its own archive_dir and reports them with its node_name.
scenario('cluster_recording', async ctx => {
  const hooks = { session_webhook_url: `${HTTP}/hook/session`, event_webhook_url: `${HTTP}/hook/event`, recording_min_free_disk_space_mb: 0 };
  const nodes = await ctx.cluster({ default_cluster_affinity: false, ...hooks },
    ns => ns.forEach(n => n.args.push('--set', `archive_dir=${path.join(n.dir, 'archive')}`)));
  const [n1, n2, n3] = nodes;
  const channel = channelName('crec');
  const page = await harnessPage(ctx, 'page');
  const vp8 = { videoCodecType: 'VP8' };
  const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv', options: vp8 });
  mustConnect(a.first);
  const b = await client(ctx, page, 'B', n2, { channel, role: 'sendrecv', options: vp8 });
  mustConnect(b.first);
  servedBy(a.first, n1, n1); servedBy(b.first, n2, n2);
  await waitMediaFrom(b, [a.first.connectionId], 'A (relayed n1 → n2)');
  await waitMediaFrom(a, [b.first.connectionId], 'B (relayed n2 → n1)');
  const started = await n3.api('Sora_20231220.StartRecording', { channel_id: channel });
  const t0 = Date.now();
  check(started.status === 200 && typeof started.json?.recording_id === 'string', `StartRecording through n3: ${started.status} ${started.text}`);
  const rid = started.json.recording_id;
  await sleep(2000);
  const c = await client(ctx, page, 'C', n3, { channel, role: 'sendonly', options: vp8 });
  mustConnect(c.first);
  servedBy(c.first, n3, n3);
  const tc = Date.now();
  await waitMediaFrom(a, [c.first.connectionId], 'C (relayed n3 → n1)');
  await sleep(Math.max(0, 8000 - (Date.now() - t0)));
  const stopped = await n2.api('Sora_20231220.StopRecording', { channel_id: channel });
  const t1 = Date.now();
  check(stopped.status === 200 && stopped.json?.recording_id === rid, `StopRecording on n2: ${stopped.status} ${stopped.text}`);
  const lines = [];
  for (const [node, h, from] of [[n1, a, t0], [n2, b, t0], [n3, c, tc]]) {
    const report = await recordingReport(rid, node.nodeName);
    const entries = report.data.archives;
    check(entries.length === 1 && entries[0].connection_id === h.first.connectionId && entries[0].node_name === node.nodeName,
      `${node.name}'s report lists ${short(entries)}; expected only ${h.name} (${h.first.connectionId}) on ${node.nodeName}`);
    const archiveDir = path.join(node.dir, 'archive');
    check(fs.existsSync(path.join(archiveDir, rid, `report-${rid}.json`)), `${node.name} wrote no report-${rid}.json`);
    // C's archive starts when C's media arrives at n3 (C joined after the start): its truth is from C's connect.
    lines.push(`${node.name}: ${checkArchive(archiveDir, rid, entries[0], 'VP8', (t1 - from) / 1000, `${h.name} on ${node.name}`, h === c ? 1.0 : 0.5)}`);
  }
  console.log(`    cluster_recording: ${lines.join('; ')}`);
});

// Issue 17 (docs/decisions.md D-34): the codec parameters a client asks for reach the browser's encoder, and what it
// sends arrives as sent. Each check has a control where "as asked" could also happen by default.
scenario('codec_params', async ctx => {
  const node = await ctx.node('n1');
  const page = await harnessPage(ctx, 'page');

  // 1. audio.bit_rate: every value sora-js-sdk's own e2e test picks becomes the sender's Opus targetBitrate (Chrome's
  //    default without one is 64 kbps for the stereo-capable default fmtp, so 64 is a control of the others).
  const senders = [];
  for (const kbps of [32, 64, 128, 256, 384]) {
    const h = await client(ctx, page, `S${kbps}`, node, { channel: channelName(`abr${kbps}`), role: 'sendonly',
      options: { video: false, audioBitRate: kbps }, source: { video: false } });
    mustConnect(h.first);
    senders.push([kbps, h]);
  }
  for (const [kbps, h] of senders) {
    const o = await until(`S${kbps} to send Opus`, async () => { const a = (await h.outbound()).audio; return a?.bytesSent > 0 && a.targetBitrate && a; },
      { detail: () => h.outbound() });
    check(o.targetBitrate === kbps * 1000, `S${kbps}: targetBitrate ${o.targetBitrate}, want ${kbps * 1000} (fmtp ${o.sdpFmtpLine})`);
    await h.stop();
  }

  // 2. A stereo source arrives in stereo at a receiver that asks for stereo output (sora-js-sdk's forceStereoOutput),
  //    without any opus_params; a mono source stays mono there; opus_params.stereo: false makes a stereo source mono.
  const tone = (hz, lo, hi) => hz >= lo && hz <= hi;
  for (const [tag, audio, options, stereo] of [['stereo', 'stereo', {}, true], ['mono', 'mono', {}, false],
    ['forced-mono', 'stereo', { audioOpusParamsStereo: false }, false]]) {
    const channel = channelName(`st-${tag}`);
    const r = await client(ctx, page, `R-${tag}`, node, { channel, role: 'recvonly', options: { forceStereoOutput: true } });
    mustConnect(r.first);
    const p = await client(ctx, page, `P-${tag}`, node, { channel, role: 'sendonly', options: { video: false, ...options }, source: { audio, video: false } });
    mustConnect(p.first);
    let last = null;
    // Mono: both channels carry the same signal (440 Hz, or the 440 + 660 Hz downmix whose peak may be either tone).
    await until(`R-${tag} to hear P-${tag} ${stereo ? 'in stereo (440 Hz left, 660 Hz right)' : 'in mono (one signal in both channels)'}`, async () => {
      last = await r.listen(p.first.connectionId);
      if (!last) return false;
      if (stereo) return tone(last.left.hz, 400, 480) && tone(last.right.hz, 600, 700);
      return (tone(last.left.hz, 400, 480) || (audio === 'stereo' && tone(last.left.hz, 600, 700))) && Math.abs(last.left.hz - last.right.hz) < 12;
    }, { detail: async () => last });
    await p.stop(); await r.stop();
  }

  // 2b. opus_params.usedtx: a silent source with DTX sends a packet every 400 ms or so instead of every 20 ms (control: no DTX).
  const dtxChannel = channelName('dtx');
  const dtx = await client(ctx, page, 'DTX', node, { channel: dtxChannel, role: 'sendonly', options: { video: false, audioOpusParamsUsedtx: true }, source: { audio: 'silence', video: false } });
  const noDtx = await client(ctx, page, 'NoDTX', node, { channel: dtxChannel, role: 'sendonly', options: { video: false }, source: { audio: 'silence', video: false } });
  mustConnect(dtx.first, noDtx.first);
  const sent = async h => (await h.outbound()).audio?.packetsSent ?? 0;
  await until('both silent senders to send', async () => (await sent(dtx)) > 0 && (await sent(noDtx)) > 0);
  const [d0, n0, t0] = [await sent(dtx), await sent(noDtx), Date.now()];
  await until('3 s of silence', async () => Date.now() - t0 >= 3000, { every: 500 });
  const [dRate, nRate] = [((await sent(dtx)) - d0) / ((Date.now() - t0) / 1000), ((await sent(noDtx)) - n0) / ((Date.now() - t0) / 1000)];
  console.log(`    codec_params: silent Opus senders: ${dRate.toFixed(1)} packets/s with usedtx, ${nRate.toFixed(1)} without`);
  check(nRate > 40 && dRate < 10, `silent senders: ${dRate.toFixed(1)} packets/s with usedtx, ${nRate.toFixed(1)} without; want < 10 and > 40`);
  await dtx.stop(); await noDtx.stop();

  // 3. video.bit_rate caps the sender's targetBitrate (b=AS); the control without it goes above the cap.
  const cam = { video: { width: 640, height: 480, frameRate: 30 } };
  const capped = await client(ctx, page, 'V200', node, { channel: channelName('vbr'), role: 'sendonly', options: { audio: false, videoBitRate: 200 }, source: { audio: false, ...cam } });
  const free = await client(ctx, page, 'Vfree', node, { channel: channelName('vfree'), role: 'sendonly', options: { audio: false }, source: { audio: false, ...cam } });
  mustConnect(capped.first, free.first);
  const maxTarget = { V200: 0, Vfree: 0 };
  await until('Vfree to target more than 200 kbps while V200 stays at or under 200 kbps', async () => {
    for (const h of [capped, free]) maxTarget[h.name] = Math.max(maxTarget[h.name], (await h.outbound()).video?.targetBitrate ?? 0);
    check(maxTarget.V200 <= 200_000, `V200 targetBitrate ${maxTarget.V200} > 200000`);
    return maxTarget.V200 > 0 && maxTarget.Vfree > 200_000;
  }, { detail: async () => maxTarget });
  await capped.stop(); await free.stop();

  // 4. Profiles: the sender encodes the profile asked for and the receiver decodes it under the same fmtp profile.
  const canSend = await page.evaluate(() => window.harness.sendCodecs());
  for (const [tag, options, mime, fmtp] of [
    ['vp9p2', { videoCodecType: 'VP9', videoVP9Params: { profile_id: 2 } }, 'video/VP9', /profile-id=2/],
    ['vp9p0', { videoCodecType: 'VP9', videoVP9Params: { profile_id: 0 } }, 'video/VP9', /profile-id=0/],
    ['av1', { videoCodecType: 'AV1', videoAV1Params: { profile: 0 } }, 'video/AV1', /profile=0/],
    ['h264main', { videoCodecType: 'H264', videoH264Params: { profile_level_id: '4d001f' } }, 'video/H264', /profile-level-id=4d001f/],
    ['h264cb', { videoCodecType: 'H264', videoH264Params: { profile_level_id: '42e01f' } }, 'video/H264', /profile-level-id=42e01f/],
  ]) {
    if (!canSend.includes(mime.split('/')[1])) { console.log(`    codec_params: this Chromium cannot encode ${mime}; ${tag} not tried`); continue; }
    const channel = channelName(tag);
    const pub = await client(ctx, page, `P-${tag}`, node, { channel, role: 'sendonly', options });
    const sub = await client(ctx, page, `R-${tag}`, node, { channel, role: 'recvonly' });
    mustConnect(pub.first, sub.first);
    await waitMediaFrom(sub, [pub.first.connectionId], `P-${tag}`);
    const out = (await pub.outbound()).video;
    check(out?.mimeType === mime && fmtp.test(out.sdpFmtpLine ?? ''), `P-${tag} sends ${out?.mimeType} "${out?.sdpFmtpLine}", want ${mime} ${fmtp}`);
    const got = (await sub.inboundCodecs(pub.first.connectionId)).video;
    check(got?.mimeType === mime && fmtp.test(got.sdpFmtpLine ?? ''), `R-${tag} receives ${got?.mimeType} "${got?.sdpFmtpLine}", want ${mime} ${fmtp}`);
    await pub.stop(); await sub.stop();
  }

  // 5. H.265: negotiated where the browser can encode it; this Debian Chromium cannot, so the connect is refused clearly.
  if (!canSend.includes('H265')) {
    const h = await client(ctx, page, 'P-h265', node, { channel: channelName('h265'), role: 'sendonly', options: { videoCodecType: 'H265' } });
    check(h.first.state === 'failed' && h.first.error?.code === 4407 && /^UNSUPPORTED-CODEC-TYPE: the client does not support H265/.test(h.first.error.reason ?? ''),
      `H265 connect from a Chromium without H.265: ${short(h.first.error)}, want 4407 UNSUPPORTED-CODEC-TYPE: the client does not support H265`);
  } else console.log('    codec_params: this Chromium encodes H.265: not covered by this scenario yet');
});

// Issue 12 (docs/decisions.md D-35): a simulcast publisher's layers reach each receiver as the layer it asked for,
// and RequestSimulcastRid switches a receiver without a freeze.
scenario('simulcast', async ctx => {
  const node = await ctx.node('n1', process.env.HIBARI_E2E_LOG_LEVEL ? { log_level: process.env.HIBARI_E2E_LOG_LEVEL } : {});
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('simulcast');
  const p = await client(ctx, page, 'P', node, { channel, role: 'sendonly',
    options: { simulcast: true, videoCodecType: 'VP8', videoBitRate: 3000 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  mustConnect(p.first);
  const low = await client(ctx, page, 'R0', node, { channel, role: 'recvonly', options: { simulcastRid: 'r0' } });
  const high = await client(ctx, page, 'R2', node, { channel, role: 'recvonly', options: { simulcastRid: 'r2' } });
  mustConnect(low.first, high.first);
  const pid = p.first.connectionId;
  await waitMediaFrom(low, [pid], 'P (r0)');
  await waitMediaFrom(high, [pid], 'P (r2)');
  // The sender encodes r0 at a quarter of r2's width (Sora's default encodings); each receiver decodes its layer: R0
  // the sender's r0, R2 the widest layer the sender sends (r2 once its bandwidth allows, r1 until then).
  let layers = null;
  const widths = await until('R0 to decode the sender\'s r0 and R2 a wider layer the sender sends', async () => {
    layers = (await p.outbound()).videoLayers ?? null;
    const lo = (await low.inboundCodecs(pid)).video, hi = (await high.inboundCodecs(pid)).video;
    if (!layers?.r0?.frameWidth || !lo?.frameWidth || !hi?.frameWidth) return false;
    const sent = Object.values(layers).filter(l => l.bytesSent > 0 && l.frameWidth).map(l => l.frameWidth);
    return lo.frameWidth === layers.r0.frameWidth && hi.frameWidth > lo.frameWidth && sent.includes(hi.frameWidth) && { lo, hi };
  }, { detail: async () => ({ layers, r0: (await low.inboundCodecs(pid)).video, r2: (await high.inboundCodecs(pid)).video }) });
  console.log(`    simulcast: sender layers ${JSON.stringify(layers)}; R0 decodes ${widths.lo.frameWidth}x${widths.lo.frameHeight}, R2 ${widths.hi.frameWidth}x${widths.hi.frameHeight}`);
  // RequestSimulcastRid: R0 → r2; its decoded width becomes R2's, without a freeze. First 5 s of steady r0 (an
  // application switches a running stream; the first seconds of a new one have key frames and rate changes of their own).
  await until('R0 to decode 150 frames', async () => ((await low.inboundCodecs(pid)).video?.framesDecoded ?? 0) >= 150);
  const before = (await low.inboundCodecs(pid)).video;
  const t0 = Date.now();
  const res = await node.api('Sora_20251217.RequestSimulcastRid', { channel_id: channel, receiver_connection_id: low.first.connectionId, rid: 'r2' });
  check(res.status === 200 && res.json?.rid === 'r2', `RequestSimulcastRid → ${res.status} ${short(res.text)}`);
  const after = await until('R0 to decode R2\'s layer after RequestSimulcastRid', async () => {
    const lo = (await low.inboundCodecs(pid)).video, hi = (await high.inboundCodecs(pid)).video;
    return lo?.frameWidth === hi?.frameWidth && lo.framesDecoded > before.framesDecoded && lo;
  }, { detail: async () => ({ r0: (await low.inboundCodecs(pid)).video, r2: (await high.inboundCodecs(pid)).video }) });
  console.log(`    simulcast: R0 switched to ${after.frameWidth}x${after.frameHeight} ${Date.now() - t0} ms after the call; freezeCount ${before.freezeCount} → ${after.freezeCount}, framesDropped ${before.framesDropped} → ${after.framesDropped}`);
  check(after.freezeCount === before.freezeCount, `R0 froze across the switch: freezeCount ${before.freezeCount} → ${after.freezeCount}`);
  // R0 is told (notify simulcast.switched, sora-js-sdk's SignalingNotifySimulcastSwitched).
  const told = await until('R0 notified simulcast.switched r0 → r2', async () => (await low.summary()).notifies.find(n =>
    n.event_type === 'simulcast.switched' && n.sender_connection_id === pid && n.previous_rid === 'r0' && n.current_rid === 'r2'),
    { detail: async () => (await low.summary()).notifies.filter(n => n.event_type !== 'connection.created') });
  check(told.request_rid === 'r2' && told.trigger === 'receiver' && told.priority === 'higher', `simulcast.switched ${short(told)}`);
  // And back down with the older API.
  const down = await node.api('Sora_20201005.RequestRtpStream', { channel_id: channel, recv_connection_id: low.first.connectionId, send_connection_id: pid, rid: 'r0' });
  check(down.status === 200, `RequestRtpStream → ${down.status} ${short(down.text)}`);
  await until('R0 back on r0', async () => (await low.inboundCodecs(pid)).video?.frameWidth === layers.r0.frameWidth);
  const missing = await node.api('Sora_20251217.RequestSimulcastRid', { channel_id: channel, receiver_connection_id: 'NOPE', rid: 'r1' });
  check(missing.status === 404, `RequestSimulcastRid for an unknown receiver → ${missing.status}`);
  // The node's per-layer totals: every layer received, key frames on each, R0's two switches (and R2's fallbacks, if any).
  const stats = (await node.api('Sora_20171010.GetStatsReport', {})).json?.simulcast;
  check(stats && ['r0', 'r1', 'r2'].every(r => stats[r].total_received_rtp > 0 && stats[r].total_received_key_frame > 0) && stats.total_switched >= 2,
    `GetStatsReport simulcast: ${short(stats)}`);
  check(/^hibari_simulcast_rtp_received_total\{rid="r2"\} [1-9]/m.test(await node.metrics()), '/metrics has no hibari_simulcast_rtp_received_total for r2');
  // The sender stops r2 (as an uplink that drops it): R2 falls back to r1, and returns to r2 when the sender resumes it.
  const setR2 = active => page.evaluate(([n, r, a]) => window.harness.setLayerActive(n, r, a), ['P', 'r2', active]);
  check(await setR2(false), 'P has no r2 encoding to turn off');
  await until('R2 to fall back to the sender\'s r1 when r2 stops', async () => (await high.inboundCodecs(pid)).video?.frameWidth === layers.r1.frameWidth,
    { detail: async () => ({ r2: (await high.inboundCodecs(pid)).video, sender: (await p.outbound()).videoLayers }) });
  const fell = await until('R2 notified of the fallback', async () => (await high.summary()).notifies.find(n =>
    n.event_type === 'simulcast.switched' && n.previous_rid === 'r2' && n.current_rid === 'r1'));
  check(fell.trigger === 'sender' && fell.priority === 'lower' && fell.request_rid === 'r2', `fallback notify ${short(fell)}`);
  check(await setR2(true), 'P has no r2 encoding to turn on');
  await until('R2 back on r2 when the sender resumes it', async () => (await high.inboundCodecs(pid)).video?.frameWidth === layers.r2.frameWidth,
    { detail: async () => ({ r2: (await high.inboundCodecs(pid)).video, sender: (await p.outbound()).videoLayers }) });
  await p.stop(); await low.stop(); await high.stop();

  // H.264 simulcast (no picture ids to continue): an r0 receiver switched to r2 decodes the full width.
  const canSend = await page.evaluate(() => window.harness.sendCodecs());
  if (!canSend.includes('H264')) { console.log('    simulcast: this Chromium cannot encode H.264; the H.264 part not tried'); return; }
  const ch264 = channelName('simulcast-h264');
  const hp = await client(ctx, page, 'HP', node, { channel: ch264, role: 'sendonly',
    options: { simulcast: true, videoCodecType: 'H264', videoBitRate: 3000 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  const hr = await client(ctx, page, 'HR', node, { channel: ch264, role: 'recvonly', options: { simulcastRid: 'r0' } });
  mustConnect(hp.first, hr.first);
  const hid = hp.first.connectionId;
  await until('HR to decode 90 frames of H.264 r0', async () => ((await hr.inboundCodecs(hid)).video?.framesDecoded ?? 0) >= 90);
  const h0 = (await hr.inboundCodecs(hid)).video;
  check(h0.mimeType === 'video/H264', `HR decodes ${h0.mimeType}`);
  const hres = await node.api('Sora_20251217.RequestSimulcastRid', { channel_id: ch264, receiver_connection_id: hr.first.connectionId, sender_connection_id: hid, rid: 'r2' });
  check(hres.status === 200, `RequestSimulcastRid (H.264) → ${hres.status} ${short(hres.text)}`);
  const h2 = await until('HR to decode a wider H.264 layer after RequestSimulcastRid', async () => {
    const v = (await hr.inboundCodecs(hid)).video;
    return v?.frameWidth > h0.frameWidth && v.framesDecoded > h0.framesDecoded && v;
  }, { detail: async () => ({ before: h0, now: (await hr.inboundCodecs(hid)).video, sender: (await hp.outbound()).videoLayers }) });
  console.log(`    simulcast: H.264 receiver ${h0.frameWidth}x${h0.frameHeight} → ${h2.frameWidth}x${h2.frameHeight}; freezeCount ${h0.freezeCount} → ${h2.freezeCount}`);
});

// The rpc data channel (D-36): a receiver with data-channel signaling, given rpc_methods by the auth webhook, switches
// its simulcast layer with sora-js-sdk's rpc('2025.2.0/RequestSimulcastRid') and its decoded resolution follows.
scenario('simulcast_rpc', async ctx => {
  const node = await ctx.node('n1', { auth_webhook_url: `${HTTP}/auth/rpc` });
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('simulcast-rpc');
  const p = await client(ctx, page, 'P', node, { channel, role: 'sendonly',
    options: { simulcast: true, videoCodecType: 'VP8', videoBitRate: 3000 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  const r = await client(ctx, page, 'R', node, { channel, role: 'recvonly', options: { simulcastRid: 'r0', dataChannelSignaling: true } });
  mustConnect(p.first, r.first);
  const pid = p.first.connectionId;
  await until('R to decode 90 frames of r0', async () => ((await r.inboundCodecs(pid)).video?.framesDecoded ?? 0) >= 90);
  const before = (await r.inboundCodecs(pid)).video;
  const t0 = Date.now();
  const call = await r.rpc('2025.2.0/RequestSimulcastRid', { rid: 'r2', sender_connection_id: pid });
  check(JSON.stringify(call.methods) === JSON.stringify(['2025.2.0/RequestSimulcastRid']), `offer rpc_methods ${short(call.methods)}`);
  check(call.result?.rid === 'r2' && call.result?.receiver_connection_id === r.first.connectionId && call.result?.sender_connection_id === pid
    && call.result?.channel_id === channel, `rpc RequestSimulcastRid → ${short(call)}`);
  const after = await until('R to decode a wider layer after the rpc call', async () => {
    const v = (await r.inboundCodecs(pid)).video;
    return v?.frameWidth > before.frameWidth && v.framesDecoded > before.framesDecoded && v;
  }, { detail: async () => ({ before, now: (await r.inboundCodecs(pid)).video, sender: (await p.outbound()).videoLayers }) });
  console.log(`    simulcast_rpc: ${before.frameWidth}x${before.frameHeight} → ${after.frameWidth}x${after.frameHeight} ${Date.now() - t0} ms after rpc(); freezeCount ${before.freezeCount} → ${after.freezeCount}`);
  check(after.freezeCount === before.freezeCount, `R froze across the rpc switch: freezeCount ${before.freezeCount} → ${after.freezeCount}`);
  // Errors come back as JSON-RPC errors: bad params, a method not handed out; a notification gets no answer but acts.
  const bad = await r.rpc('2025.2.0/RequestSimulcastRid', { rid: 'r9' });
  check(bad.error && bad.raw[0]?.error?.code === -32602, `bad rid → ${short(bad)}`);
  const unknown = await r.rpc('2099.1.0/NoSuchMethod', {});
  check(unknown.error && unknown.raw[0]?.error?.code === -32601, `unknown method → ${short(unknown)}`);
  const note = await r.rpc('2025.2.0/RequestSimulcastRid', { rid: 'r0' }, { notification: true });
  check(!note.error, `notification → ${short(note)}`);
  await until('R back on r0 after the notification', async () => (await r.inboundCodecs(pid)).video?.frameWidth === before.frameWidth);
  check(/^hibari_rpc_requests_total [1-9]/m.test(await node.metrics()), '/metrics hibari_rpc_requests_total did not count the calls');
});

// The signaling-notify metadata extension (docs/decisions.md D-52) driven by sora-js-sdk: A (data-channel signaling,
// handed the rpc method by the auth webhook) sets its own item with rpc() and push: B hears connection.updated with it;
// the API reads it back.
scenario('metadata_rpc', async ctx => {
  const node = await ctx.node('n1', { auth_webhook_url: `${HTTP}/auth/metarpc`, signaling_notify_metadata_ext: true });
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('meta-rpc');
  const b = await client(ctx, page, 'B', node, { channel, role: 'recvonly' });
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv', options: { dataChannelSignaling: true } });
  mustConnect(a.first, b.first);
  const ida = a.first.connectionId;
  // The rpc channel opens with data-channel signaling; retry until it is there.
  let call = null;
  await until('A\'s rpc PutSignalingNotifyMetadataItem to answer', async () => {
    call = await a.rpc('2025.2.0/PutSignalingNotifyMetadataItem', { key: 'mic', value: 'muted', push: true });
    return !call.error && call.result?.metadata?.mic === 'muted';
  }, { detail: () => short(call) });
  check(call.result.connection_id === ida, `rpc result ${short(call.result)}`);
  await until('B to hear connection.updated about A with the new metadata', async () =>
    (await b.summary()).notifies.some(n => n.event_type === 'connection.updated' && n.connection_id === ida && n.metadata?.mic === 'muted'),
    { detail: async () => short((await b.summary()).notifies.slice(-5)) });
  const got = await node.api('Sora_20201124.GetSignalingNotifyMetadata', { channel_id: channel, connection_id: ida });
  check(got.status === 200 && got.json.metadata?.mic === 'muted', `GetSignalingNotifyMetadata → ${got.status} ${short(got.json)}`);
});

// Spotlight (D-37) on one node: four publishers with spotlight_number 1, a receiver whose unfocused senders are not
// forwarded at all (spotlight_unfocus_rid none). Focus follows the loudest speaker (silence vs a 440 Hz tone, switched by
// MediaStreamTrack.enabled), the receiver gets only the focused sender's audio and video, and the spotlight APIs act.
scenario('spotlight', async ctx => {
  const node = await ctx.node('n1', process.env.HIBARI_E2E_LOG_LEVEL ? { log_level: process.env.HIBARI_E2E_LOG_LEVEL } : {});
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('spotlight');
  const spot = { spotlight: true, spotlightNumber: 1 };
  const r = await client(ctx, page, 'R', node, { channel, role: 'recvonly', options: { ...spot, spotlightFocusRid: 'r0', spotlightUnfocusRid: 'none' } });
  mustConnect(r.first);
  const notifies = async type => (await r.summary()).notifies.filter(n => n.event_type === type);
  const focusedNow = async () => {
    // The last focused/unfocused notify per connection says who is focused now.
    const state = new Map();
    for (const n of (await r.summary()).notifies) {
      if (n.event_type === 'spotlight.focused') state.set(n.connection_id, true);
      if (n.event_type === 'spotlight.unfocused') state.set(n.connection_id, false);
    }
    return [...state].filter(([, f]) => f).map(([id]) => id);
  };
  const pub = async (name, audio) => {
    const h = await client(ctx, page, name, node, { channel, role: 'sendonly', options: spot, source: { audio } });
    mustConnect(h.first);
    return h;
  };
  // P2 (silent) first: the one sender takes the free focus.
  const p2 = await pub('P2', 'silence');
  const id2 = p2.first.connectionId;
  await until('R told that P2 (alone) is focused', async () => JSON.stringify(await focusedNow()) === JSON.stringify([id2]));
  await waitMediaFrom(r, [id2], 'P2 (focused)');
  // P3 speaks but is muted; P1 speaks: P1 takes the focus from P2.
  const p3 = await pub('P3', 'mono');
  check(await p3.setTrackEnabled('audio', false) === 1, 'P3 has no audio track to mute');
  const p1 = await pub('P1', 'mono');
  const id1 = p1.first.connectionId, id3 = p3.first.connectionId;
  const t0 = Date.now();
  await until('the focus to move to P1, the loud one', async () => JSON.stringify(await focusedNow()) === JSON.stringify([id1]),
    { detail: async () => (await r.summary()).notifies.filter(n => n.event_type.startsWith('spotlight')) });
  console.log(`    spotlight: P1 focused ${Date.now() - t0} ms after it joined`);
  const changed = (await notifies('spotlight.changed')).find(n => n.connection_id === id1);
  check(changed && changed.spotlight_id === '0' && changed.fixed === false && changed.audio === true && changed.video === true, `spotlight.changed for P1: ${short(changed)}`);
  await waitMediaFrom(r, [id1], 'P1 (focused)');
  // Only the focused sender reaches R: P2's audio stops, P1's flows.
  const flow = async () => { const s = (await r.summary()).inbound; return { p1: s[id1]?.audioPackets ?? 0, p2: s[id2]?.audioPackets ?? 0, p3: s[id3]?.audioPackets ?? 0 }; };
  const a = await flow();
  await until('P1\'s audio to keep flowing to R', async () => (await flow()).p1 > a.p1 + 50);
  const b = await flow();
  check(b.p2 - a.p2 <= 5 && b.p3 === 0, `unfocused senders' audio reached R: ${short(a)} → ${short(b)}`);
  // P1 stops speaking, P3 starts: the focus moves to P3.
  await p1.setTrackEnabled('audio', false);
  await p3.setTrackEnabled('audio', true);
  const t1 = Date.now();
  await until('the focus to move to P3 when it speaks and P1 stops', async () => JSON.stringify(await focusedNow()) === JSON.stringify([id3]));
  console.log(`    spotlight: P3 focused ${Date.now() - t1} ms after it started speaking`);
  await waitMediaFrom(r, [id3], 'P3 (focused)');
  // FocusSpotlightFixed on silent P2 keeps it focused while P3 speaks; UnfocusSpotlight gives the focus back to P3.
  const fx = await node.api('Sora_20200807.FocusSpotlightFixed', { channel_id: channel, connection_id: id2 });
  check(fx.status === 200 && fx.json?.connection_id === id2, `FocusSpotlightFixed → ${fx.status} ${short(fx.text)}`);
  await until('P2 focused (fixed) after FocusSpotlightFixed', async () => JSON.stringify(await focusedNow()) === JSON.stringify([id2]));
  check((await notifies('spotlight.focused')).filter(n => n.connection_id === id2).at(-1)?.fixed === true, 'the fixed focus notify does not say fixed');
  await new Promise(res => setTimeout(res, 4000));
  check(JSON.stringify(await focusedNow()) === JSON.stringify([id2]), `a fixed focus moved while P3 spoke: ${short(await focusedNow())}`);
  const un = await node.api('Sora_20200807.UnfocusSpotlight', { channel_id: channel, connection_id: id2 });
  check(un.status === 200, `UnfocusSpotlight → ${un.status} ${short(un.text)}`);
  await until('P3 focused again after UnfocusSpotlight', async () => JSON.stringify(await focusedNow()) === JSON.stringify([id3]));
  // Two focuses: P3 and the most active other (or first come) get them; R then receives two senders' audio.
  const num = await node.api('Sora_20200807.ChangeSpotlightNumber', { channel_id: channel, spotlight_number: 2 });
  check(num.status === 200, `ChangeSpotlightNumber → ${num.status} ${short(num.text)}`);
  await until('two senders focused after ChangeSpotlightNumber 2', async () => (await focusedNow()).length === 2);
  check((await node.api('Sora_20200807.ChangeSpotlightNumber', { channel_id: channel, spotlight_number: 9 })).status === 400, 'spotlight_number 9 accepted');
  check((await node.api('Sora_20200807.FocusSpotlight', { channel_id: 'nope', connection_id: id2 })).status === 404, 'FocusSpotlight on an unknown channel is not 404');
  // RequestSpotlightRid: R now also wants unfocused senders (r0): an unfocused sender's video reaches R again.
  const rr = await node.api('Sora_20211215.RequestSpotlightRid', { channel_id: channel, recv_connection_id: r.first.connectionId, spotlight_focus_rid: 'r0', spotlight_unfocus_rid: 'r0' });
  check(rr.status === 200, `RequestSpotlightRid → ${rr.status} ${short(rr.text)}`);
  const now = await focusedNow();
  const other = [id1, id2, id3].find(id => !now.includes(id));
  const before = (await r.summary()).inbound[other]?.framesDecoded ?? 0;
  await until('an unfocused sender\'s video to reach R after RequestSpotlightRid unfocus r0', async () => ((await r.summary()).inbound[other]?.framesDecoded ?? 0) > before + 10);
});

// `tc` on lo (the scenario runs in the runner's private network namespace): htb with a slow class for UDP toward one
// port, everything else unlimited (netem is not available on this kernel; tbf/htb are).
function tc(...args) {
  const r = spawnSync('tc', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tc ${args.join(' ')} failed: ${r.stderr.trim()}`);
}
function limitUdpPort(port, kbit) {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`, 'burst', '15k');
  // A link's buffer, not htb's default of 1,000 packets (20 s at 500 kbit/s): about 400 ms at the rate.
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'bfifo', 'limit', String(Math.max(15000, Math.round(kbit * 1000 / 8 * 0.4))));
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'protocol', '17', '0xff',
    'match', 'ip', 'dport', String(port), '0xffff', 'flowid', '1:20');
}
function unlimit() { spawnSync('tc', ['qdisc', 'del', 'dev', 'lo', 'root'], { stdio: 'ignore' }); }

// Bandwidth adaptation (D-38): two receivers ask for r2; one's downlink is cut to 500 kbit/s with tc: it drops to a
// lower layer (from its transport-wide feedback) while the other stays on r2, and returns to r2 once the limit goes.
scenario('simulcast_bandwidth', async ctx => {
  if (!inNetns) { console.log('    simulcast_bandwidth: not in a private network namespace; tc on lo not tried'); return; }
  const node = await ctx.node('n1', process.env.HIBARI_E2E_LOG_LEVEL ? { log_level: process.env.HIBARI_E2E_LOG_LEVEL } : {});
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('simulcast-bw');
  const p = await client(ctx, page, 'P', node, { channel, role: 'sendonly',
    options: { simulcast: true, videoCodecType: 'VP8', videoBitRate: 3000 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  const a = await client(ctx, page, 'A', node, { channel, role: 'recvonly', options: { simulcastRid: 'r2' } });
  const b = await client(ctx, page, 'B', node, { channel, role: 'recvonly', options: { simulcastRid: 'r2' } });
  mustConnect(p.first, a.first, b.first);
  const pid = p.first.connectionId;
  const width = async h => (await h.inboundCodecs(pid)).video?.frameWidth ?? 0;
  let full = 0;
  await until('A and B to decode the widest layer the sender sends', async () => {
    const layers = (await p.outbound()).videoLayers ?? {};
    full = Math.max(0, ...Object.values(layers).filter(l => l.bytesSent > 0 && l.frameWidth).map(l => l.frameWidth));
    return full >= 1280 && await width(a) === full && await width(b) === full;
  }, { detail: async () => ({ a: await width(a), b: await width(b), sender: (await p.outbound()).videoLayers }) });
  const port = await page.evaluate(n => window.harness.localPort(n), 'B');
  check(port > 0, `B's local port ${port}`);
  ctx.closers.push(unlimit);
  limitUdpPort(port, 500);
  const t0 = Date.now();
  if (process.env.HIBARI_E2E_LOG_LEVEL) console.log(`    simulcast_bandwidth: limit applied at ${new Date(t0).toISOString()}`);
  await until('B to drop below the full width under a 500 kbit/s limit', async () => (await width(b)) > 0 && (await width(b)) < full,
    { detail: async () => ({ a: await width(a), b: await width(b), metrics: (await node.metrics()).split('\n').filter(l => l.startsWith('hibari_downlink')) }) });
  const down = Date.now() - t0;
  const est = (await node.metrics()).split('\n').find(l => l.startsWith(`hibari_downlink_estimate_bps{connection_id="${b.first.connectionId}"}`));
  console.log(`    simulcast_bandwidth: B down to ${await width(b)} px ${down} ms after the limit; A at ${await width(a)} px; ${est}`);
  check(await width(a) === full, `A left the full width while only B was limited: ${await width(a)}`);
  check(est && Number(est.split(' ')[1]) < 1_000_000, `B's estimate under the limit: ${est}`);
  // The same in B's per-connection statistics (D-41): its estimate, and the layer it gets under the one it asked for.
  // Polled: the statistics are a snapshot of the worker's state, and one taken while a probe briefly lifts B's cap
  // (or before the down-switch's key frame arrived) is not wrong; a node that never reports it is.
  let stats, polls = 0;
  await until("B's GetStatsConnection to show its estimate and a layer under r2", async () => {
    const st = await node.api('Sora_20170529.GetStatsConnection', { channel_id: channel, connection_id: b.first.connectionId });
    const video = Object.values(st.json?.hibari?.forwarded ?? {}).find(t => t.kind === 'video');
    if (polls++ > 0) console.log(`    simulcast_bandwidth: B's statistics, poll ${polls - 1} did not show it yet: ${short(stats, 600)}`);
    stats = { status: st.status, downlink: st.json?.hibari?.downlink, video };
    return st.status === 200 && st.json.hibari.downlink?.estimated_bitrate_bps < 1_000_000 && video?.requested_rid === 'r2'
      && video.rid !== 'r2' && video.total_layer_switches >= 1;
  }, { ms: 10000, detail: () => stats });
  unlimit();
  const t1 = Date.now();
  if (process.env.HIBARI_E2E_LOG_LEVEL) console.log(`    simulcast_bandwidth: limit lifted at ${new Date(t1).toISOString()} (B is ${b.first.connectionId})`);
  await until('B back on the full width after the limit is lifted', async () => (await width(b)) === full,
    { ms: Math.max(opt.timeoutMs, 45000), detail: async () => ({ b: await width(b), metrics: (await node.metrics()).split('\n').filter(l => l.startsWith('hibari_downlink')) }) });
  console.log(`    simulcast_bandwidth: B back to ${full} px ${Date.now() - t1} ms after the limit was lifted`);
});

// REMB toward a single-layer publisher follows its strongest receiver (D-38): its only receiver's downlink limited to
// 500 kbit/s, the publisher's encoder target (outbound-rtp targetBitrate) comes down; lifted, it goes back up.
scenario('remb_follows_receiver', async ctx => {
  if (!inNetns) { console.log('    remb_follows_receiver: not in a private network namespace; tc on lo not tried'); return; }
  const node = await ctx.node('n1');
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('remb');
  const p = await client(ctx, page, 'P', node, { channel, role: 'sendonly',
    options: { videoCodecType: 'VP8', videoBitRate: 2500 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  const b = await client(ctx, page, 'B', node, { channel, role: 'recvonly' });
  mustConnect(p.first, b.first);
  await waitMediaFrom(b, [p.first.connectionId], 'P');
  const target = async () => (await p.outbound()).video?.targetBitrate ?? 0;
  const estimate = async () => Number(new RegExp(`^hibari_downlink_estimate_bps\\{connection_id="${b.first.connectionId}"\\} (\\d+)$`, 'm').exec(await node.metrics())?.[1] ?? NaN);
  // A condition that holds on 4 samples in a row, 500 ms apart (the encoder's target moves on its own too).
  const steady = (what, cond, ms) => { let n = 0; return until(what, async () => { n = (await cond()) ? n + 1 : 0; return n >= 4; },
    { every: 500, ms, detail: async () => ({ target: await target(), estimate: await estimate() }) }); };
  await steady('P\'s encoder target steadily above 1 Mbit/s', async () => (await target()) > 1_000_000);
  const port = await page.evaluate(n => window.harness.localPort(n), 'B');
  ctx.closers.push(unlimit);
  limitUdpPort(port, 500);
  const t0 = Date.now();
  await steady('B\'s estimate under 1 Mbit/s and P\'s encoder target under 800 kbit/s (REMB following B)',
    async () => (await estimate()) < 1_000_000 && (await target()) < 800_000, 90000);
  console.log(`    remb_follows_receiver: P's target ${Math.round(await target() / 1000)} kbit/s, B's estimate ${Math.round(await estimate() / 1000)} kbit/s, ${Date.now() - t0} ms after B's downlink was limited`);
  unlimit();
  const t1 = Date.now();
  await steady('P\'s encoder target back above 1 Mbit/s with B\'s estimate', async () => (await estimate()) > 1_000_000 && (await target()) > 1_000_000, 90000);
  console.log(`    remb_follows_receiver: P's target ${Math.round(await target() / 1000)} kbit/s ${Date.now() - t1} ms after the limit was lifted`);
});

async function threeClients(ctx, tag) {
  const node = await ctx.node('n1');
  const channel = channelName(tag);
  const page = await harnessPage(ctx, 'page');
  const cs = [];
  for (const n of ['A', 'B', 'C']) {
    const h = await client(ctx, page, n, node, { channel, role: 'sendrecv' });
    mustConnect(h.first);
    cs.push(h);
  }
  const ids = cs.map(h => h.first.connectionId);
  check(new Set(ids).size === 3 && ids.every(isConnId), `connection ids not 3 distinct 26-char ids: ${ids}`);
  for (const h of cs) await waitMediaFrom(h, ids.filter(id => id !== h.first.connectionId));
  return { node, channel, cs, ids };
}

scenario('three_sendrecv', async ctx => {
  const { cs, ids } = await threeClients(ctx, '3sr');
  for (const h of cs) {
    const s = await h.summary();
    check(!s.inbound[h.first.connectionId], `${h.name} receives its own stream`);
    check(ids.filter(id => id !== h.first.connectionId).every(id => s.remoteConnectionIds.includes(id)), `${h.name} remoteConnectionIds ${s.remoteConnectionIds}`);
    await until(`${h.name} connected callback`, async () => (await h.summary()).connectedCallback);
  }
});

/** Waits until `h` lost both tracks of the stream `cid` (removetrack events, or no live tracks left) and forgot it. */
async function waitTracksGone(h, cid, who) {
  await until(`${h.name} to lose ${who}'s audio and video tracks (removetrack)`, async () => {
    const s = await h.summary();
    const removed = new Set(s.removed.filter(r => r.streamId === cid).map(r => r.kind));
    return ((removed.has('audio') && removed.has('video')) || (s.liveTracks[cid]?.length ?? 0) === 0) && !s.remoteConnectionIds.includes(cid);
  }, { detail: async () => { const s = await h.summary(); return { removed: s.removed, live: s.liveTracks, remote: s.remoteConnectionIds }; } });
}

// Two media workers (docs/decisions.md D-29): four sendrecv clients spread over both workers' ports; each decodes the
// other three, so every stream crossed from its publisher's worker to subscribers on the other one.
scenario('media_workers_2', async ctx => {
  const node = await ctx.node('n1', { media_workers: 2 });
  const channel = channelName('mw');
  const page = await harnessPage(ctx, 'page');
  const cs = [];
  for (const n of ['A', 'B', 'C', 'D']) {
    const h = await client(ctx, page, n, node, { channel, role: 'sendrecv' });
    mustConnect(h.first);
    cs.push(h);
  }
  const ids = cs.map(h => h.first.connectionId);
  check(new Set(ids).size === 4, `connection ids not distinct: ${ids}`);
  const peers = async () => [...(await node.metrics()).matchAll(/^hibari_media_worker_peers\{worker="(\d)"\} (\d+)$/gm)].map(m => Number(m[2]));
  await until('both workers have two peers', async () => { const p = await peers(); return p.length === 2 && p[0] === 2 && p[1] === 2; });
  for (const h of cs) await waitMediaFrom(h, ids.filter(id => id !== h.first.connectionId));
  const metrics = await node.metrics();
  const handed = [...metrics.matchAll(/^hibari_media_worker_handed_off_total\{worker="\d"\} (\d+)$/gm)].map(m => Number(m[1]));
  check(handed.length === 2 && handed.every(n => n > 0), `each worker handed packets to the other: ${handed}`);
  // Decoding goes on: frames keep increasing on every client for every remote stream.
  const before = await Promise.all(cs.map(h => h.summary()));
  await until('every client keeps decoding every remote stream', async () => {
    const now = await Promise.all(cs.map(h => h.summary()));
    return now.every((s, i) => ids.filter(id => id !== cs[i].first.connectionId)
      .every(id => (s.inbound[id]?.framesDecoded ?? 0) > (before[i].inbound[id]?.framesDecoded ?? 0) + 20));
  });
});

scenario('leave', async ctx => {
  const { cs, ids } = await threeClients(ctx, 'leave');
  const [a, b, c] = cs, cid = ids[2];
  const stopped = await c.stop();
  check(!stopped.stopError, `C disconnect() failed: ${short(stopped.stopError)}`);
  for (const h of [a, b]) {
    const s = await until(`${h.name} to get notify connection.destroyed for C (${cid})`, async () => {
      const s = await h.summary();
      return s.notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === cid) && s;
    }, { detail: async () => (await h.summary()).notifies.map(n => `${n.event_type}:${n.connection_id}`) });
    const d = s.notifies.find(n => n.event_type === 'connection.destroyed' && n.connection_id === cid);
    check(d.channel_connections === 2, `${h.name}: connection.destroyed channel_connections ${d.channel_connections}, want 2`);
    await waitTracksGone(h, cid, 'C');
    // The remaining pair still gets media from each other.
    await waitMediaFrom(h, ids.filter(id => id !== cid && id !== h.first.connectionId));
  }
});

scenario('auth_denied', async ctx => {
  const node = await ctx.node('deny', { auth_webhook_url: `${HTTP}/auth/deny` });
  const channel = channelName('deny');
  const before = authCalls.length;
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv', metadata: { token: 'e2e' } });
  const s = a.first;
  check(s.state === 'failed', `connect was not rejected: state ${s.state}`);
  check(s.error.code !== 'TIMEOUT', `connect did not settle: ${s.error.message}`);
  const got = `close code=${s.error.code} reason='${s.error.reason}'`;
  const call = authCalls.slice(before).find(c => c.body?.channel_id === channel);
  check(call, `the auth webhook was not called for channel ${channel} (connect failed with ${got})`);
  check(JSON.stringify(call.body.metadata) === JSON.stringify({ token: 'e2e' }), `webhook metadata ${short(call.body.metadata)}`);
  check(Number.isInteger(s.error.code) && s.error.code >= 4000 && s.error.code <= 4999, `${got}, want a 4xxx code (${s.error.message})`);
  check(String(s.error.reason).includes('TEST-DENIED'), `${got}: the reason lacks TEST-DENIED`);
});

scenario('disconnect_and_push', async ctx => {
  const node = await ctx.node('n1');
  const channel = channelName('api');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  const push = await node.api('Sora_20160711.PushChannel', { channel_id: channel, data: { hello: 'world' } });
  check(push.status === 200, `PushChannel → ${push.status} ${short(push.text)}`);
  const s = await until('A `push` callback with {hello:"world"}', async () => {
    const s = await a.summary();
    return s.pushes.some(p => p.type === 'push' && JSON.stringify(p.data) === '{"hello":"world"}') && s;
  }, { detail: async () => (await a.summary()).pushes });
  check(s.disconnects.length === 0, `A disconnected early: ${short(s.disconnects)}`);
  const disc = await node.api('Sora_20151104.DisconnectConnection', { channel_id: channel, connection_id: a.first.connectionId });
  check(disc.status === 200, `DisconnectConnection → ${disc.status} ${short(disc.text)}`);
  const s2 = await until('A `disconnect` callback', async () => { const s = await a.summary(); return s.disconnects.length > 0 && s; });
  check(s2.disconnects[0].type === 'normal', `disconnect event ${short(s2.disconnects[0])}, want type normal (WS close 1000)`);
});

scenario('cpp_style_connect', async ctx => {
  const node = await ctx.node('n1');
  const channel = channelName('cpp');
  const ws = new WebSocket(signalingUrlOf(node));
  ctx.closers.push(() => ws.terminate());
  const first = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Failure(`no message within ${opt.timeoutMs} ms`)), opt.timeoutMs);
    ws.on('open', () => ws.send(JSON.stringify({
      type: 'connect', role: 'sendrecv', channel_id: channel, metadata: null, audio: true, video: true, multistream: true,
      sora_client: 'Sora C++ SDK 2025.4.0 (e2e imitation)', libwebrtc: 'Shiguredo-build M136', environment: `node ${process.version}`,
    })));
    ws.on('message', d => { clearTimeout(t); resolve(JSON.parse(d.toString())); });
    ws.on('close', (code, reason) => { clearTimeout(t); reject(new Failure(`WebSocket closed before any message: code=${code} reason='${reason}'`)); });
    ws.on('error', e => { clearTimeout(t); reject(new Failure(`WebSocket error ${e.message}`)); });
  });
  check(first.type === 'offer', `first message type '${first.type}', want offer: ${short(first)}`);
  check(typeof first.sdp === 'string' && /\r?\na=ice-lite\r?\n/.test(`\n${first.sdp}`), 'offer sdp lacks a=ice-lite');
  check(isConnId(first.connection_id), `connection_id '${first.connection_id}' is not 26 chars`);
  ws.send(JSON.stringify({ type: 'disconnect', reason: 'NO-ERROR' }));
});

scenario('demo_page', async ctx => {
  check(fs.existsSync(path.join(WEB, 'node_modules/sora-js-sdk/dist/sora.js')), 'web/node_modules is missing: run web/install.sh (or tests/e2e/install.sh)');
  const node = await ctx.node('demo', { demo_dir: WEB });
  const channel = channelName('demo');
  const r = await fetch(`${node.pageBase}/?channel=${channel}`, { signal: AbortSignal.timeout(10000) }).catch(e => ({ status: `error ${e.message}` }));
  check(r.status === 200, `GET ${node.pageBase}/ → ${r.status} (the node must serve web/ at /)`);
  const js = await fetch(`${node.pageBase}/sora.js`, { signal: AbortSignal.timeout(10000) }).catch(e => ({ status: `error ${e.message}` }));
  check(js.status === 200 && /javascript/.test(js.headers.get('content-type') ?? ''), `GET /sora.js → ${js.status} ${js.headers?.get?.('content-type')}`);
  const b = await getBrowser();
  const pages = [];
  for (const label of ['demo1', 'demo2']) {
    const context = await b.newContext();
    ctx.closers.push(() => context.close());
    const p = await context.newPage();
    p.setDefaultTimeout(opt.timeoutMs);
    p.on('pageerror', e => ctx.console.push(`[${label}] pageerror ${e.message}`));
    await p.goto(`${node.pageBase}/?channel=${encodeURIComponent(channel)}&video=320x240@15`);
    pages.push(p);
  }
  const selfIds = [];
  for (const [i, p] of pages.entries()) {
    selfIds[i] = await until(`demo${i + 1} to connect (its own connection id shown)`, () => p.evaluate(() => {
      const d = document.body.dataset;
      if (d.state === 'error') throw new Error(`demo page error: ${document.getElementById('error')?.textContent}`);
      return d.state === 'connected' && d.connectionId;
    }).catch(e => { if (/demo page error/.test(e.message)) throw new Failure(e.message); throw e; }),
    { detail: () => p.evaluate(() => `${document.body.dataset.state}: ${document.getElementById('error')?.textContent}`) });
  }
  for (const [i, p] of pages.entries()) {
    const other = selfIds[1 - i];
    await until(`demo${i + 1} to play demo${2 - i}'s video (videoWidth > 0)`, () => p.evaluate(id => {
      const v = document.querySelector(`video[data-connection-id="${id}"]`);
      return v && v.videoWidth > 0 && !v.paused;
    }, other), { detail: () => p.evaluate(() => [...document.querySelectorAll('video')].map(v => `${v.dataset.connectionId}:${v.videoWidth}`)) });
    const count = await p.evaluate(() => document.getElementById('count')?.textContent);
    check(/\b2\b/.test(count ?? ''), `demo${i + 1} participant count '${count}', want 2`);
  }
});

// The release artefact (scripts/package.sh, docs/decisions.md D-49) as an operator runs it: its apphost
// bin/Hibari.Server (self-contained, no `dotnet`), its hibari.conf.example with the lines INSTALL.md appends, its web/.
scenario('published_binary', async ctx => {
  check(PUBLISHED, 'HIBARI_PUBLISHED_DIR is not set (the directory scripts/package.sh prints)');
  const exe = path.join(PUBLISHED, 'bin/Hibari.Server');
  check(fs.existsSync(exe) && (fs.statSync(exe).mode & 0o111), `${exe} is missing or not executable`);
  // The server's run-time settings (Hibari.Server.csproj) survived publishing.
  const rc = JSON.parse(fs.readFileSync(path.join(PUBLISHED, 'bin/Hibari.Server.runtimeconfig.json'), 'utf8')).runtimeOptions;
  check(rc.configProperties?.['System.Runtime.TieredPGO'] === false && rc.configProperties?.['System.Threading.ThreadPool.UnfairSemaphoreSpinLimit'] === 0
    && rc.configProperties?.['System.Globalization.Invariant'] === true, `published runtimeconfig lacks the csproj's settings: ${short(rc.configProperties)}`);
  check(rc.includedFrameworks?.some(f => f.name === 'Microsoft.AspNetCore.App'), `not self-contained (no includedFrameworks): ${short(rc)}`);
  for (const f of ['hibari.conf.example', 'hibari.service', 'INSTALL.md', 'web/index.html', 'web/node_modules/sora-js-sdk/dist/sora.js'])
    check(fs.existsSync(path.join(PUBLISHED, f)), `the artefact lacks ${f}`);
  const conf = path.join(tmpRoot(), `published-${Date.now().toString(36)}.conf`);
  fs.writeFileSync(conf, `${fs.readFileSync(path.join(PUBLISHED, 'hibari.conf.example'), 'utf8')}\ndemo_dir = ${path.join(PUBLISHED, 'web')}\n`);
  const node = await ctx.node('pub', {}, { exe, config: conf });
  // The process is the artefact's apphost running the artefact's own runtime, not a machine-wide .NET.
  const target = fs.readlinkSync(`/proc/${node.proc.pid}/exe`);
  check(target === fs.realpathSync(exe), `the node process runs ${target}, not the published ${exe}`);
  const coreclr = fs.readFileSync(`/proc/${node.proc.pid}/maps`, 'utf8').split('\n').map(l => l.split(/\s+/)[5]).find(f => f?.endsWith('/libcoreclr.so'));
  check(coreclr === path.join(fs.realpathSync(PUBLISHED), 'bin/libcoreclr.so'), `the node runs the runtime ${coreclr}, not the artefact's`);
  const r = await fetch(`${node.pageBase}/`, { signal: AbortSignal.timeout(10000) }).catch(e => ({ status: `error ${e.message}` }));
  const html = r.status === 200 ? await r.text() : '';
  check(r.status === 200 && /text\/html/.test(r.headers.get('content-type') ?? '') && html === fs.readFileSync(path.join(PUBLISHED, 'web/index.html'), 'utf8'),
    `GET ${node.pageBase}/ → ${r.status} ${r.headers?.get?.('content-type')} (want the artefact's web/index.html)`);
  const js = await fetch(`${node.pageBase}/sora.js`, { signal: AbortSignal.timeout(10000) }).catch(e => ({ status: `error ${e.message}` }));
  check(js.status === 200 && /javascript/.test(js.headers.get('content-type') ?? ''), `GET /sora.js → ${js.status} ${js.headers?.get?.('content-type')}`);
  const channel = channelName('pub');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  const b = await client(ctx, page, 'B', node, { channel, role: 'recvonly' });
  mustConnect(b.first);
  const sb = await waitMediaFrom(b, [a.first.connectionId], `A (${a.first.connectionId})`);
  console.log(`    published_binary: ${path.basename(PUBLISHED)}, B decoded ${sb.inbound[a.first.connectionId].framesDecoded} frames of A`);
  // The `hibari` command ships in bin/ too (self-contained, the same runtime): it lists the connections of the node.
  const cli = spawnSync(path.join(PUBLISHED, 'bin/hibari'), ['--url', node.apiUrl, '--json', 'connections', channel], { encoding: 'utf8', timeout: 30000 });
  check(cli.status === 0, `bin/hibari connections → exit ${cli.status}: ${cli.stderr}`);
  const ids = JSON.parse(cli.stdout).map(c => c.connection_id).sort();
  check(JSON.stringify(ids) === JSON.stringify([a.first.connectionId, b.first.connectionId].sort()), `bin/hibari connections listed ${ids}`);
}, { needs: 'HIBARI_PUBLISHED_DIR' });

// ---------------------------------------------------------------------------------------------- cluster scenarios
// Three regular nodes n1..n3 on 127.0.0.1..3 (docs/requirements.md, sections 3–5, 7, 9). Media is asserted only between clients
// served by one node: relay between nodes is not built yet.
const redirectsOf = s => s.signaling.filter(e => / onmessage-redirect$/.test(e)).length;
/** Asserts that `s` connected with its first connect sent to `contact` and its offer from `served` (real URLs). */
function servedBy(s, contact, served) {
  const want = signalingUrlOf(contact);
  check(s.contactUrl === want, `${s.name}: contactSignalingUrl ${s.contactUrl}, want ${want}`);
  // A redirect names the node's external_signaling_url (the real one, also with --trace).
  const wantServed = contact === served ? want : served.signalingUrl;
  check(s.connectedUrl === wantServed, `${s.name}: connectedSignalingUrl ${s.connectedUrl}, want ${wantServed} (${served.name}); sdk signaling: ${s.signaling.slice(-12).join(', ')}`);
  const redirects = redirectsOf(s), want2 = contact === served ? 0 : 1;
  check(redirects === want2, `${s.name}: ${redirects} redirect(s) in the SDK's signaling log, want ${want2}: ${s.signaling.join(', ')}`);
}
const waitOwners = (on, channel, want) => until(`ListClusterChannels on ${on.name} to show ${channel} owned by [${want}]`,
  async () => JSON.stringify(await ownersOf(on, channel)) === JSON.stringify([...want].sort()), { every: 200, detail: () => ownersOf(on, channel) });

scenario('cluster_redirect_affinity', async ctx => {
  const [n1, n2] = await ctx.cluster();
  const channel = channelName('aff');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n2, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n2, n2); // a new session, all nodes equally spare: the contact node serves it (C-LB-1)
  await waitOwners(n1, channel, [n2.nodeName]);
  const b = await client(ctx, page, 'B', n1, { channel, role: 'sendrecv' });
  mustConnect(b.first);
  servedBy(b.first, n1, n2); // C-AFF-2: redirected once to the node holding the session
  await waitMediaFrom(b, [a.first.connectionId], 'A');
  await waitMediaFrom(a, [b.first.connectionId], 'B');
  check(JSON.stringify(await ownersOf(n1, channel)) === JSON.stringify([n2.nodeName]), `owners on n1 ${await ownersOf(n1, channel)}, want only ${n2.nodeName}`);
});

scenario('cluster_three_urls', async ctx => {
  const nodes = await ctx.cluster();
  const n3 = nodes[2];
  const channel = channelName('urls');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n3, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n3, n3);
  await Promise.all(nodes.map(n => waitOwners(n, channel, [n3.nodeName])));
  // C-CLIENT-1: given every node's URL the SDK opens them all, takes the first that answers; affinity then sends
  // it to A's node (at most one redirect).
  const c = await client(ctx, page, 'C', nodes, { channel, role: 'recvonly' });
  mustConnect(c.first);
  check(c.first.signaling.some(e => / signaling-url-candidate$/.test(e)), `C's SDK did not try URL candidates: ${c.first.signaling.join(', ')}`);
  const contact = nodes.find(n => signalingUrlOf(n) === c.first.contactUrl);
  check(contact, `C's contactSignalingUrl ${c.first.contactUrl} is none of the three`);
  servedBy(c.first, contact, n3);
  await waitMediaFrom(c, [a.first.connectionId], 'A');
  // D given only the two other nodes' URLs: whichever answers first takes the connect and redirects it to n3.
  const d = await client(ctx, page, 'D', nodes.slice(0, 2), { channel, role: 'recvonly' });
  mustConnect(d.first);
  const dContact = nodes.slice(0, 2).find(n => signalingUrlOf(n) === d.first.contactUrl);
  check(dContact, `D's contactSignalingUrl ${d.first.contactUrl} is neither n1 nor n2`);
  servedBy(d.first, dContact, n3);
  await waitMediaFrom(d, [a.first.connectionId], 'A');
  console.log(`    cluster_three_urls: C's first answering node ${contact.name}, D's ${dContact.name}; both served by ${n3.name}`);
});

scenario('cluster_norelay_full', async ctx => {
  const [n1, n2] = await ctx.cluster({ cluster_relay: false, license_max_connections: 1 });
  const channel = channelName('full');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n1, n1);
  await waitOwners(n2, channel, [n1.nodeName]);
  // C-NOREL-2: the session lives on n1, which is full (1 of 1): B at n2 cannot join it anywhere. Until n2 has n1's
  // load report (sent every LoadBoard.Interval over the node links), n2 redirects B to n1, which refuses the
  // redirected connect as full (LICENSE-MAX-CONNECTIONS-REACHED, or SESSION-NODE-FULL when n1's own placement sees its
  // session full first: one CI run); once it has, n2 refuses at once (SESSION-NODE-FULL, no redirect).
  const seen = [];
  let i = 0;
  const last = await until('B at n2 to be refused with SESSION-NODE-FULL', async () => {
    const b = await client(ctx, page, `B${++i}`, n2, { channel, role: 'sendrecv' });
    const s = b.first;
    check(s.state === 'failed', `B${i} at n2 connected to a full relay-off session (served by ${s.connectedUrl})`);
    check(Number.isInteger(s.error.code) && s.error.code >= 4000 && s.error.code <= 4999, `B${i}: code=${s.error.code} reason='${s.error.reason}' (${s.error.message}), want a 4xxx close`);
    seen.push(`${s.error.code} ${s.error.reason}${redirectsOf(s) ? ' (after a redirect)' : ''}`);
    check(['SESSION-NODE-FULL', 'LICENSE-MAX-CONNECTIONS-REACHED'].includes(s.error.reason), `B${i}: reason '${s.error.reason}', want SESSION-NODE-FULL`);
    return s.error.reason === 'SESSION-NODE-FULL' && redirectsOf(s) === 0 && s;
  }, { every: 200, detail: () => seen });
  check(last.error.code === 4416 && redirectsOf(last) === 0, `SESSION-NODE-FULL: code ${last.error.code}, ${redirectsOf(last)} redirect(s)`);
  console.log(`    cluster_norelay_full: B attempts: ${seen.join('; ')}`);
  const sa = await a.summary();
  check(sa.state === 'connected' && sa.disconnects.length === 0, `A was disturbed: ${sa.state} ${short(sa.disconnects)}`);
  check(JSON.stringify(await ownersOf(n2, channel)) === JSON.stringify([n1.nodeName]), `owners ${await ownersOf(n2, channel)}`);
});

scenario('cluster_block_new_session', async ctx => {
  const nodes = await ctx.cluster();
  const n1 = nodes[0];
  const mode = await n1.api('Sora_20211215.ChangeMode', { mode: 'block_new_session' });
  check(mode.status === 200, `ChangeMode on n1 → ${mode.status} ${short(mode.text)}`);
  await until('ListClusterNodes on n1 to show n1 in block_new_session', async () => {
    const r = await n1.api('Sora_20211215.ListClusterNodes');
    return r.json?.find?.(n => n.node_name === n1.nodeName)?.mode === 'block_new_session';
  }, { every: 200 });
  const page = await harnessPage(ctx, 'page');
  const channel = channelName('block');
  const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  const served = nodes.find(n => n.signalingUrl === a.first.connectedUrl || signalingUrlOf(n) === a.first.connectedUrl);
  check(served && served !== n1, `A given n1's URL was served by ${a.first.connectedUrl}, want another node (C-MODE-1)`);
  servedBy(a.first, n1, served);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  // Every node's view: the channel is owned by the serving node only, never by n1.
  for (const n of nodes) await waitOwners(n, channel, [served.nodeName]);
  console.log(`    cluster_block_new_session: redirected from n1 to ${served.name}`);
});

scenario('cluster_affinity_off', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ default_cluster_affinity: false });
  const channel = channelName('noaff');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n1, n1);
  await waitOwners(n2, channel, [n1.nodeName]);
  const b = await client(ctx, page, 'B', n2, { channel, role: 'sendrecv' });
  mustConnect(b.first);
  servedBy(b.first, n2, n2); // C-REL-1: served where it connected although the session exists on n1
  await waitOwners(n3, channel, [n1.nodeName, n2.nodeName]);
  for (const h of [a, b]) await until(`${h.name} \`connected\` callback`, async () => (await h.summary()).connectedCallback);
  // No media between A and B: that needs relay between nodes, which is not built yet.
});

// Relay (issue 6, C-RELAY-1..4, C-REL-1): three nodes, affinity off so clients stay where they connect. A sendrecv on
// n1, B sendrecv on n2, C recvonly on n3 see and hear each other, #chat crosses nodes, notifies and counters include
// every node; B leaves; then a second B on n2 and SIGKILL of n2: A → C media goes on, B's departure is seen in ≤ 5 s.
// Issue 17 across a relay: a stereo VP9 profile 2 publisher on n1, a receiver on n2 gets both exactly as sent.
scenario('cluster_codec_params', async ctx => {
  const [n1, n2] = await ctx.cluster({ default_cluster_affinity: false });
  const channel = channelName('relay-codec');
  const page = await harnessPage(ctx, 'page');
  const canSend = await page.evaluate(() => window.harness.sendCodecs());
  const options = canSend.includes('VP9') ? { videoCodecType: 'VP9', videoVP9Params: { profile_id: 2 } } : {};
  const p = await client(ctx, page, 'P', n1, { channel, role: 'sendonly', options, source: { audio: 'stereo' } });
  mustConnect(p.first);
  const r = await client(ctx, page, 'R', n2, { channel, role: 'recvonly', options: { forceStereoOutput: true } });
  mustConnect(r.first);
  servedBy(p.first, n1, n1); servedBy(r.first, n2, n2);
  await waitMediaFrom(r, [p.first.connectionId], 'P (relayed n1 → n2)');
  let last = null;
  await until('R to hear P in stereo across the relay (440 Hz left, 660 Hz right)', async () => {
    last = await r.listen(p.first.connectionId);
    return last && last.left.hz >= 400 && last.left.hz <= 480 && last.right.hz >= 600 && last.right.hz <= 700;
  }, { detail: async () => last });
  if (options.videoCodecType) {
    const got = (await r.inboundCodecs(p.first.connectionId)).video;
    check(got?.mimeType === 'video/VP9' && /profile-id=2/.test(got.sdpFmtpLine ?? ''), `R receives ${got?.mimeType} "${got?.sdpFmtpLine}" across the relay, want VP9 profile-id=2`);
  }
});

scenario('cluster_relay', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ default_cluster_affinity: false, data_channel_messaging: true });
  const channel = channelName('relay');
  const page = await harnessPage(ctx, 'page');
  const dc = { dataChannelSignaling: true, dataChannels: [{ label: '#chat', direction: 'sendrecv' }] };
  const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv', options: dc });
  mustConnect(a.first);
  const b = await client(ctx, page, 'B', n2, { channel, role: 'sendrecv', options: dc });
  mustConnect(b.first);
  const c = await client(ctx, page, 'C', n3, { channel, role: 'recvonly', options: dc });
  mustConnect(c.first);
  for (const [h, n] of [[a, n1], [b, n2], [c, n3]]) servedBy(h.first, n, n);
  const [ida, idb, idc] = [a.first.connectionId, b.first.connectionId, c.first.connectionId];
  await waitMediaFrom(b, [ida], 'A (relayed n1 → n2)');
  await waitMediaFrom(c, [ida, idb], 'A and B (relayed to n3)');
  await waitMediaFrom(a, [idb], 'B (relayed n2 → n1)');
  // The publishers' RTCP sender reports are relayed too: C's receivers of A's tracks get the node's own SRs (lip sync).
  await until('C to get sender reports for A\'s relayed tracks', async () => ((await c.summary()).inbound[ida]?.senderReports ?? 0) > 0,
    { detail: async () => (await c.summary()).inbound });
  // Notifies about clients on other nodes, with counters over every node.
  const created = await until('A notified of B and C (connection.created relayed)', async () => {
    const s = await a.summary();
    return [idb, idc].every(id => s.notifies.some(n => n.event_type === 'connection.created' && n.connection_id === id)) && s;
  }, { detail: async () => (await a.summary()).notifies.map(n => `${n.event_type}:${n.connection_id}:${n.channel_connections}`) });
  const ofC = created.notifies.find(n => n.event_type === 'connection.created' && n.connection_id === idc);
  check(ofC.channel_connections === 3, `A's notify for C says channel_connections ${ofC.channel_connections}, want 3: ${short(created.notifies.map(n => `${n.event_type}:${n.connection_id}:${n.channel_connections}:${n.channel_sendrecv_connections}/${n.channel_recvonly_connections}`))} ids A ${ida} B ${idb} C ${idc}`);
  // Messaging across nodes.
  for (const h of [a, b, c]) await until(`${h.name} has #chat`, async () => (await h.summary()).datachannels.some(d => d.label === '#chat'));
  await sendAndWait(a, [b, c], '#chat', { size: 64, seed: 11, text: true });
  await sendAndWait(c, [a, b], '#chat', { size: 20_000, seed: 12 });
  // PushChannel on one node reaches clients on every node (channel calls act cluster-wide).
  const push = await n3.api('Sora_20160711.PushChannel', { channel_id: channel, data: { relay: true } });
  check(push.status === 200, `PushChannel on n3 → ${push.status} ${short(push.text)}`);
  for (const h of [a, b, c]) await until(`${h.name} push`, async () => (await h.summary()).pushes.some(p => p.data?.relay === true));
  // B leaves: A and C get connection.destroyed and lose B's tracks.
  await b.stop();
  for (const h of [a, c]) {
    await until(`${h.name} notified that B left`, async () =>
      (await h.summary()).notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === idb));
    await waitTracksGone(h, idb, 'B');
  }
  // A second B on n2, then SIGKILL n2.
  const b2 = await client(ctx, page, 'B2', n2, { channel, role: 'sendrecv', options: dc });
  mustConnect(b2.first);
  const idb2 = b2.first.connectionId;
  await waitMediaFrom(a, [idb2], 'B2');
  await waitMediaFrom(c, [idb2], 'B2');
  const before = (await c.summary()).inbound[ida].framesDecoded;
  const killedAt = Date.now();
  await n2.kill();
  for (const h of [a, c]) {
    await until(`${h.name} to see B2 leave after n2's SIGKILL`, async () => {
      const s = await h.summary();
      return s.notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === idb2) && !s.remoteConnectionIds.includes(idb2);
    }, { ms: 15000, every: 100 });
    const took = Date.now() - killedAt;
    console.log(`    cluster_relay: ${h.name} saw B2 (on the killed n2) leave ${took} ms after SIGKILL`);
    check(took <= 5000, `${h.name} saw B2's departure ${took} ms after SIGKILL of n2, want ≤ 5000 ms`);
  }
  await until('C keeps decoding A after n2 died', async () => (await c.summary()).inbound[ida].framesDecoded > before + 30,
    { detail: async () => (await c.summary()).inbound });
});

/** Runs curl; resolves { code, stdout, stderr }. */
function curl(args) {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', d => { out += d; });
    p.stderr.on('data', d => { err += d; });
    const t = setTimeout(() => { p.kill('SIGKILL'); reject(new Failure(`curl ${args.join(' ')}: no exit within ${opt.timeoutMs} ms`)); }, opt.timeoutMs);
    p.on('error', e => { clearTimeout(t); reject(new Failure(`curl: ${e.message}`)); });
    p.on('exit', code => { clearTimeout(t); resolve({ code, stdout: out, stderr: err }); });
  });
}

// Simulcast across relay (D-39): a publisher on n1, receivers on n2 and n3. n1 relays to n2 only the layers n2's receiver
// needs (counted per layer in n1's /metrics); a RequestSimulcastRid for the receiver on n2 brings r2 over within a key
// frame and r0 stops; n3 lacks the SimulcastLayers capability (cluster_relay_simulcast = false: an older node) and gets r0.
scenario('cluster_simulcast', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ default_cluster_affinity: false },
    ns => ns[2].args.push('--set', 'cluster_relay_simulcast=false'));
  const channel = channelName('csim');
  const page = await harnessPage(ctx, 'page');
  const p = await client(ctx, page, 'P', n1, { channel, role: 'sendonly',
    options: { simulcast: true, videoCodecType: 'VP8', videoBitRate: 3000 }, source: { video: { width: 1280, height: 720, frameRate: 30 } } });
  mustConnect(p.first);
  const r = await client(ctx, page, 'R', n2, { channel, role: 'recvonly', options: { simulcastRid: 'r0' } });
  const old = await client(ctx, page, 'O', n3, { channel, role: 'recvonly', options: { simulcastRid: 'r2' } });
  mustConnect(r.first, old.first);
  servedBy(r.first, n2, n2); servedBy(old.first, n3, n3);
  const pid = p.first.connectionId;
  let layers = null;
  await until('R (n2) and O (n3) to decode the sender\'s r0', async () => {
    layers = (await p.outbound()).videoLayers ?? null;
    const w0 = layers?.r0?.frameWidth;
    return w0 && (await r.inboundCodecs(pid)).video?.frameWidth === w0 && (await old.inboundCodecs(pid)).video?.frameWidth === w0;
  }, { detail: async () => ({ layers, r: (await r.inboundCodecs(pid)).video, o: (await old.inboundCodecs(pid)).video }) });
  const sent = async peer => {
    const m = await n1.metrics();
    return [0, 1, 2].map(i => Number(new RegExp(`^hibari_cluster_relay_layer_rtp_sent_total\\{peer="${peer.replace('.', '\\.')}",rid="r${i}"\\} (\\d+)$`, 'm').exec(m)?.[1] ?? NaN));
  };
  const over = async (peer, ms) => { const a = await sent(peer); await sleep(ms); const b = await sent(peer); return b.map((v, i) => v - a[i]); };
  const toN2 = await over(n2.nodeName, 3000);
  console.log(`    cluster_simulcast: layers relayed n1 → n2 in 3 s while R wants r0: ${toN2.join('/')}`);
  check(toN2[0] > 30 && toN2[1] === 0 && toN2[2] === 0, `n1 relays to n2 layers nobody there needs: r0/r1/r2 ${toN2.join('/')}`);
  // R asks for r2 (the API on R's node): n2 asks n1 for it, R switches on its key frame, without a freeze.
  const before = (await r.inboundCodecs(pid)).video;
  const t0 = Date.now();
  const res = await n2.api('Sora_20251217.RequestSimulcastRid', { channel_id: channel, receiver_connection_id: r.first.connectionId, rid: 'r2' });
  check(res.status === 200, `RequestSimulcastRid on n2 → ${res.status} ${short(res.text)}`);
  const after = await until('R to decode r2 relayed from n1', async () => {
    const v = (await r.inboundCodecs(pid)).video;
    return v?.frameWidth === layers.r2.frameWidth && v;
  }, { detail: async () => ({ r: (await r.inboundCodecs(pid)).video, sent: await sent(n2.nodeName) }) });
  console.log(`    cluster_simulcast: R on n2 switched to ${after.frameWidth}px ${Date.now() - t0} ms after the call; freezeCount ${before.freezeCount} → ${after.freezeCount}`);
  check(after.freezeCount === before.freezeCount, `R froze across the relayed switch: ${before.freezeCount} → ${after.freezeCount}`);
  // r0 is no longer needed on n2: it stops within a few seconds; r2 flows.
  await until('n1 to stop relaying r0 to n2', async () => { const d = await over(n2.nodeName, 1000); return d[0] === 0 && d[2] > 10 && d; },
    { ms: 10000, detail: async () => ({ sent: await sent(n2.nodeName) }) });
  // The node without the capability still gets r0 only, as before D-39.
  const toN3 = await over(n3.nodeName, 2000);
  check(toN3[0] > 20 && toN3[1] === 0 && toN3[2] === 0, `n1 → n3 (no SimulcastLayers): r0/r1/r2 ${toN3.join('/')}`);
  check((await old.inboundCodecs(pid)).video?.frameWidth === layers.r0.frameWidth, 'O on the older node does not decode r0');
  // R's downlink (n2 → R) limited: n2's estimate caps R, n2 asks n1 for the lower layer, R drops; back when lifted.
  if (!inNetns) return;
  const port = await page.evaluate(n => window.harness.localPort(n), 'R');
  ctx.closers.push(unlimit);
  limitUdpPort(port, 500);
  const tl = Date.now();
  await until('R (n2) to drop below the full width under a 500 kbit/s limit', async () => {
    const w = (await r.inboundCodecs(pid)).video?.frameWidth ?? 0;
    return w > 0 && w < layers.r2.frameWidth;
  }, { detail: async () => ({ r: (await r.inboundCodecs(pid)).video, sent: await sent(n2.nodeName) }) });
  console.log(`    cluster_simulcast: R on n2 dropped to ${(await r.inboundCodecs(pid)).video?.frameWidth}px ${Date.now() - tl} ms after its downlink was limited; n1 → n2 layers now ${(await over(n2.nodeName, 1000)).join('/')} per s`);
  unlimit();
  const tu = Date.now();
  await until('R (n2) back on the full width after the limit is lifted', async () => (await r.inboundCodecs(pid)).video?.frameWidth === layers.r2.frameWidth,
    { ms: Math.max(opt.timeoutMs, 45000), detail: async () => ({ r: (await r.inboundCodecs(pid)).video, sent: await sent(n2.nodeName) }) });
  console.log(`    cluster_simulcast: R back on ${layers.r2.frameWidth}px ${Date.now() - tu} ms after the limit was lifted`);
});

/** Who client `h` was last told is focused (spotlight.focused / unfocused notifies), sorted. */
async function focusOf(h) {
  const state = new Map();
  for (const n of (await h.summary()).notifies) {
    if (n.event_type === 'spotlight.focused') state.set(n.connection_id, true);
    if (n.event_type === 'spotlight.unfocused') state.set(n.connection_id, false);
  }
  return [...state].filter(([, f]) => f).map(([id]) => id).sort();
}

// Spotlight across relay (D-40): publishers and receivers spread over three nodes; one node decides the focus from the
// relayed audio and the others apply it, so receivers on different nodes see the same focus, and it follows the speaker.
scenario('cluster_spotlight', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ default_cluster_affinity: false });
  const channel = channelName('cspot');
  const page = await harnessPage(ctx, 'page');
  const spot = { spotlight: true, spotlightNumber: 1 };
  const recv = { ...spot, spotlightFocusRid: 'r0', spotlightUnfocusRid: 'none' };
  const r2 = await client(ctx, page, 'R2', n2, { channel, role: 'recvonly', options: recv });
  const r3 = await client(ctx, page, 'R3', n3, { channel, role: 'recvonly', options: recv });
  mustConnect(r2.first, r3.first);
  const pub = async (name, node, audio) => {
    const h = await client(ctx, page, name, node, { channel, role: 'sendonly', options: spot, source: { audio } });
    mustConnect(h.first);
    servedBy(h.first, node, node);
    return h;
  };
  const p2 = await pub('P2', n1, 'silence');
  const id2 = p2.first.connectionId;
  await until('R2 and R3 told that P2 (alone) is focused', async () =>
    JSON.stringify(await focusOf(r2)) === JSON.stringify([id2]) && JSON.stringify(await focusOf(r3)) === JSON.stringify([id2]),
    { detail: async () => ({ r2: await focusOf(r2), r3: await focusOf(r3), want: id2 }) });
  const p3 = await pub('P3', n2, 'mono');
  check(await p3.setTrackEnabled('audio', false) === 1, 'P3 has no audio track to mute');
  const p1 = await pub('P1', n3, 'mono');
  const id1 = p1.first.connectionId, id3 = p3.first.connectionId;
  // Both receivers see the focus move to P1; the times they learn it differ by less than a second.
  const seen = async (want) => {
    const at = {};
    await until(`R2 and R3 to see ${want === id1 ? 'P1' : 'P3'} focused`, async () => {
      for (const [k, h] of [['r2', r2], ['r3', r3]])
        if (at[k] === undefined && JSON.stringify(await focusOf(h)) === JSON.stringify([want])) at[k] = Date.now();
      return at.r2 !== undefined && at.r3 !== undefined;
    }, { every: 50, detail: async () => ({ r2: await focusOf(r2), r3: await focusOf(r3), want }) });
    return at;
  };
  const t1 = await seen(id1);
  console.log(`    cluster_spotlight: P1 (n3) focused; R2 (n2) and R3 (n3) learnt it ${Math.abs(t1.r2 - t1.r3)} ms apart`);
  check(Math.abs(t1.r2 - t1.r3) < 1000, `receivers learnt the focus ${Math.abs(t1.r2 - t1.r3)} ms apart`);
  await waitMediaFrom(r2, [id1], 'P1 relayed from n3');
  // P1 stops, P3 (on n2) speaks: the focus follows on every node.
  await p1.setTrackEnabled('audio', false);
  await p3.setTrackEnabled('audio', true);
  const t3 = await seen(id3);
  console.log(`    cluster_spotlight: P3 (n2) focused; learnt ${Math.abs(t3.r2 - t3.r3)} ms apart`);
  check(Math.abs(t3.r2 - t3.r3) < 1000, `receivers learnt the second focus ${Math.abs(t3.r2 - t3.r3)} ms apart`);
  await waitMediaFrom(r3, [id3], 'P3 relayed from n2');
  // The API on any node acts through the decider: FocusSpotlightFixed on n3 for P2 (on n1) reaches both receivers.
  const fx = await n3.api('Sora_20200807.FocusSpotlightFixed', { channel_id: channel, connection_id: id2 });
  check(fx.status === 200, `FocusSpotlightFixed on n3 → ${fx.status} ${short(fx.text)}`);
  await seen(id2);
  // One decider (D-40): n1 has the smallest node name; it decided every change, the others only applied its frames.
  const count = async (n, name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(await n.metrics())?.[1] ?? NaN);
  const [d1, d2, d3] = [await count(n1, 'hibari_spotlight_changes_total'), await count(n2, 'hibari_spotlight_changes_total'), await count(n3, 'hibari_spotlight_changes_total')];
  const [a2, a3] = [await count(n2, 'hibari_spotlight_remote_focus_total'), await count(n3, 'hibari_spotlight_remote_focus_total')];
  console.log(`    cluster_spotlight: changes decided n1/n2/n3 ${d1}/${d2}/${d3}; focus frames applied on n2/n3 ${a2}/${a3}`);
  check(d1 >= 3 && d2 === 0 && d3 === 0 && a2 > 0 && a3 > 0, `decisions n1/n2/n3 ${d1}/${d2}/${d3}, applied n2/n3 ${a2}/${a3}`);
});

// Issue 13 part 1 (D-42): a real partition, the Raft leader alone on one side ({L} | {F1, F2}). iptables drops the
// cluster ports (links, Raft, relay: cluster_listen_min_port..max_port) between L's address and each follower's, both
// ways; the harness's and the browser's own traffic to the nodes uses other ports and stays. Only a cut by address is
// real once every node-to-node connection leaves from the node's own address: before D-42 the followers kept hearing
// the leader's Raft traffic (it left from 127.0.0.1) and never elected another.
const CLUSTER_PORT_RANGE = '49010:49020';
function iptables(...args) {
  const r = spawnSync('iptables', ['-w', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`iptables ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
}
function cutClusterPorts(a, b) {
  for (const [src, dst] of [[a, b], [b, a]])
    for (const proto of ['tcp', 'udp'])
      iptables('-I', 'INPUT', '-s', src, '-d', dst, '-p', proto, '-m', 'multiport', '--ports', CLUSTER_PORT_RANGE, '-j', 'DROP');
}
function healAll() { spawnSync('iptables', ['-w', '-F', 'INPUT'], { stdio: 'ignore' }); }

// Issue 15 (docs/decisions.md D-57): a client on a network that blocks UDP connects through the node's TURN server over
// TCP: iptables drops every UDP datagram to the node's media and TURN ports (as a firewall would), so the only path is
// TURN-TCP. Two sora-js-sdk clients publish, receive and exchange messages that way; the selected candidate pair is
// `relay` over TCP. With UDP allowed again, a new client picks the host candidate. Then once more over TLS (a
// certificate made by the test): the `turns:` URL and Hibari's TLS listener.
function selectedPairOf(h) { return h.page.evaluate(n => window.harness.selectedPair(n), h.name); }
async function turnNode(ctx, name, extra = {}) {
  const ports = { apiPort: await freePort(), signalingPort: await freePort(), rtcUdpPort: await freePort(true) };
  const turnUdp = await freePort(true), turnTcp = await freePort();
  const node = await ctx.node(name, { data_channel_messaging: 'true', turn_udp_port: turnUdp, turn_tcp_listen_port: turnTcp, ...extra }, { ports });
  return { node, udpPorts: [ports.rtcUdpPort, ports.rtcUdpPort + 1, ports.rtcUdpPort + 2, ports.rtcUdpPort + 3, turnUdp] };
}
function blockUdp(ports) {
  for (const chain of ['INPUT', 'OUTPUT'])
    iptables('-I', chain, '-p', 'udp', '-m', 'multiport', '--ports', ports.join(','), '-j', 'DROP');
}
function unblockUdp() { for (const chain of ['INPUT', 'OUTPUT']) spawnSync('iptables', ['-w', '-F', chain], { stdio: 'ignore' }); }
async function turnCall(ctx, node, tag, { relay, inBrowser = null }) {
  const channel = channelName(tag);
  const page = await harnessPage(ctx, tag, inBrowser);
  const options = { dataChannelSignaling: true, dataChannels: [{ label: '#turn', direction: 'sendrecv' }] };
  const a = await client(ctx, page, `${tag}A`, node, { channel, role: 'sendrecv', options });
  const b = await client(ctx, page, `${tag}B`, node, { channel, role: 'sendrecv', options });
  mustConnect(a.first, b.first);
  await waitMediaFrom(b, [a.first.connectionId], `${tag}A`);
  await waitMediaFrom(a, [b.first.connectionId], `${tag}B`);
  await until(`${tag}A and ${tag}B to have #turn open`, async () =>
    (await a.summary()).datachannels.some(d => d.label === '#turn') && (await b.summary()).datachannels.some(d => d.label === '#turn'));
  await sendAndWait(a, [b], '#turn', { size: 3000, seed: 21 });
  await sendAndWait(b, [a], '#turn', { size: 40, seed: 22, text: true });
  const pairs = [await selectedPairOf(a), await selectedPairOf(b)];
  for (const p of pairs) {
    check(p, `${tag}: no selected candidate pair`);
    if (relay) check(p.localType === 'relay' && p.relayProtocol === relay, `${tag}: selected pair is not relay over ${relay}: ${short(p)}`);
    else check(p.localType === 'host', `${tag}: with UDP allowed the selected pair is not the host candidate: ${short(p)}`);
  }
  return { a, b, pairs };
}

scenario('turn_tcp', async ctx => {
  if (!inNetns) { console.log('    turn_tcp: not in a private network namespace; iptables not tried'); return; }
  const { node, udpPorts } = await turnNode(ctx, 'n1');
  blockUdp(udpPorts);
  try {
    const { pairs } = await turnCall(ctx, node, 'tcp', { relay: 'tcp' });
    const report = (await node.api('Sora_20171010.GetStatsReport', {})).json;
    check(report.total_turn_tcp_connections >= 2, `GetStatsReport total_turn_tcp_connections: ${report.total_turn_tcp_connections}`);
    const metrics = await node.metrics();
    const allocations = Number(/^hibari_turn_allocations (\d+)/m.exec(metrics)?.[1]);
    check(allocations >= 2, `hibari_turn_allocations: ${allocations}`);
    console.log(`    turn_tcp: both clients relay over TCP (${pairs.map(p => `${p.localType}/${p.relayProtocol} → ${p.remote}`).join(', ')}), ${allocations} allocations, total_turn_tcp_connections ${report.total_turn_tcp_connections}`);
  } finally {
    unblockUdp();
  }
  const { pairs } = await turnCall(ctx, node, 'udp', { relay: null });
  console.log(`    turn_tcp: with UDP allowed: ${pairs.map(p => `${p.localType} ${p.remote}`).join(', ')}`);
});

// Issue 15 item 4: in a cluster with relay, clients behind a UDP-blocking firewall reach whichever node serves them
// through that node's own TURN server (its offer, its credentials), and the relay carries media between the nodes.
scenario('cluster_turn', async ctx => {
  if (!inNetns) { console.log('    cluster_turn: not in a private network namespace; iptables not tried'); return; }
  const turnUdp = await freePort(true), turnTcp = await freePort();
  const [n1, n2] = await ctx.cluster({ default_cluster_affinity: false, data_channel_messaging: true, turn_udp_port: turnUdp, turn_tcp_listen_port: turnTcp });
  const p = n1.rtcUdpPort;
  blockUdp([p, p + 1, p + 2, p + 3, turnUdp]);
  try {
    const channel = channelName('cturn');
    const page = await harnessPage(ctx, 'page');
    const a = await client(ctx, page, 'A', n1, { channel, role: 'sendrecv' });
    const b = await client(ctx, page, 'B', n2, { channel, role: 'sendrecv' });
    mustConnect(a.first, b.first);
    servedBy(a.first, n1, n1);
    servedBy(b.first, n2, n2);
    await waitMediaFrom(b, [a.first.connectionId], 'A (relayed n1 → n2, through TURN at both ends)');
    await waitMediaFrom(a, [b.first.connectionId], 'B (relayed n2 → n1, through TURN at both ends)');
    for (const [h, n] of [[a, n1], [b, n2]]) {
      const pair = await selectedPairOf(h);
      check(pair?.localType === 'relay' && pair.relayProtocol === 'tcp' && pair.localUrl === `turn:${n.ip}:${turnTcp}?transport=tcp`,
        `${h.name}: not relayed over TCP by ${n.name}'s own TURN server: ${short(pair)}`);
    }
    console.log(`    cluster_turn: A through ${n1.ip}'s TURN-TCP, B through ${n2.ip}'s, media relayed between them`);
  } finally {
    unblockUdp();
  }
});

scenario('turn_tls', async ctx => {
  if (!inNetns) { console.log('    turn_tls: not in a private network namespace; iptables not tried'); return; }
  const dir = fs.mkdtempSync(path.join(tmpRoot(), 'turn-tls-'));
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { encoding: 'utf8' });
  check(r.status === 0, `openssl could not make a test certificate: ${r.stderr}`);
  // Chromium checks a TURN server's certificate: a browser of its own trusts exactly this one (by its key's SPKI hash).
  const spki = spawnSync('sh', ['-c', `openssl x509 -in '${cert}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`],
    { encoding: 'utf8' }).stdout.trim();
  check(spki.length === 44, `SPKI hash of the test certificate: '${spki}'`);
  const { chromium } = await import('playwright-core');
  const trusting = await chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: opt.timeoutMs,
    args: [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${spki}`], handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  ctx.closers.push(() => trusting.close());
  const tlsPort = await freePort();
  // turn_tcp = false: the only TCP path is TLS.
  const { node, udpPorts } = await turnNode(ctx, 'n1', { turn_tcp: 'false', turn_tls: 'true', turn_tls_listen_port: tlsPort,
    turn_tls_certificate: cert, turn_tls_private_key: key });
  blockUdp(udpPorts);
  try {
    const { pairs } = await turnCall(ctx, node, 'tls', { relay: 'tls', inBrowser: trusting });
    console.log(`    turn_tls: both clients relay over TLS (${pairs.map(p => `${p.localUrl} → ${p.remote}`).join(', ')})`);
  } finally {
    unblockUdp();
  }
});

scenario('cluster_partition', async ctx => {
  if (!inNetns) { console.log('    cluster_partition: not in a private network namespace; iptables not tried'); return; }
  const nodes = await ctx.cluster({ default_cluster_affinity: false });
  const leader = await until('one Raft leader', () => raftLeaderAmong(nodes));
  const [f1, f2] = nodes.filter(n => n !== leader);
  // 3 regular + 1 temporary node: {L} | {F1, F2, t4}.
  const t4 = await addTemporaryNode(ctx, 'c-partition-t4', f1);
  const page = await harnessPage(ctx, 'page');
  // A call on the majority side across relay (P on F1, R on F2), and A alone on the leader.
  const chY = channelName('part-y');
  const p = await client(ctx, page, 'P', f1, { channel: chY, role: 'sendonly' });
  mustConnect(p.first);
  servedBy(p.first, f1, f1);
  const r = await client(ctx, page, 'R', f2, { channel: chY, role: 'recvonly' });
  mustConnect(r.first);
  servedBy(r.first, f2, f2);
  const pid = p.first.connectionId;
  await waitMediaFrom(r, [pid], 'P across relay');
  const a = await client(ctx, page, 'A', leader, { channel: channelName('part-x'), role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, leader, leader);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);

  ctx.closers.push(healAll);
  const cutAt = Date.now();
  cutClusterPorts(leader.ip, f1.ip);
  cutClusterPorts(leader.ip, f2.ip);
  cutClusterPorts(leader.ip, t4.ip);
  // The minority (the old leader alone) closes its clients with 4502 within 3 s (C-MAJ-2).
  const d = await until('A closed by the minority node', async () => (await a.summary()).disconnects[0], { every: 50 });
  console.log(`    cluster_partition: ${leader.name} (leader) cut off; A closed ${d.at - cutAt} ms later (${d.code} ${d.reason})`);
  check(d.at - cutAt <= 3000 && d.code === 4502, `A's disconnect ${short(d)} ${d.at - cutAt} ms after the cut, want 4502 within 3000 ms`);
  // The majority elects a new leader within the election timeout and keeps committing.
  const next = await until('a new leader on the majority side', () => raftLeaderAmong([f1, f2]), { every: 100 });
  console.log(`    cluster_partition: ${next.name} leads the majority ${Date.now() - cutAt} ms after the cut`);
  const framesBefore = (await r.summary()).inbound[pid].framesDecoded;
  await until('R to decode 30 more frames of P during the cut', async () => (await r.summary()).inbound[pid].framesDecoded >= framesBefore + 30,
    { detail: async () => (await r.summary()).inbound[pid] });
  const chZ = channelName('part-z');
  const z = await client(ctx, page, 'Z', f2, { channel: chZ, role: 'sendrecv' });
  mustConnect(z.first); // a new session: replicated through the new leader
  const x = await client(ctx, page, 'X', leader, { channel: channelName('part-w'), role: 'sendrecv' });
  check(x.first.state === 'failed' && x.first.error?.code === 4502, `a connect to the cut-off ${leader.name}: ${x.first.state} ${short(x.first.error)}, want 4502`);
  check(!(await leader.available()), `${leader.name} still reports hibari_available 1 while cut off`);
  check(await t4.available(), 't4 (on the majority side) became unavailable during the cut');
  const duringCut = await sessionIdsOf([...nodes, t4], chY);
  check(duringCut.length === 1, `channel ${chY} sessions during the cut: ${duringCut}`);

  // Healed: the old leader serves again without a restart; every node sees one owner set per channel.
  healAll();
  const healedAt = Date.now();
  await waitAvailable([leader]);
  console.log(`    cluster_partition: ${leader.name} available again ${Date.now() - healedAt} ms after the heal`);
  const e = await client(ctx, page, 'E', leader, { channel: channelName('part-v'), role: 'sendrecv' });
  mustConnect(e.first);
  servedBy(e.first, leader, leader);
  for (const [ch, want] of [[chY, [f1.nodeName, f2.nodeName].sort()], [chZ, [f2.nodeName]]])
    for (const n of [...nodes, t4]) await waitOwners(n, ch, want);
  check((await sessionIdsOf([...nodes, t4], chY)).length === 1, `channel ${chY} has more than one session after the heal`);
});

/** A temporary node t4 on 127.0.0.4 (the cluster's ports), registered through `contact` and available. */
async function addTemporaryNode(ctx, name, contact) {
  const t4 = await makeNode(name, {
    cluster: true, cluster_secret: CLUSTER_SECRET, node_name: 't4@127.0.0.4', cluster_temporary_node: true,
    external_signaling_url: `ws://127.0.0.4:${contact.signalingPort}/signaling`, external_api_url: `http://127.0.0.4:${contact.apiPort}/`,
  }, { ip: '127.0.0.4', ports: { apiPort: contact.apiPort, signalingPort: contact.signalingPort, rtcUdpPort: contact.rtcUdpPort } });
  t4.nodeName = 't4@127.0.0.4';
  ctx.nodes.push(t4);
  t4.spawn();
  await t4.waitApi();
  const reg = await t4.api('Sora_20211215.RegisterClusterNode', { contact_node_name: contact.nodeName });
  check(reg.status === 200, `RegisterClusterNode on t4 → ${reg.status} ${short(reg.text)}`);
  await waitAvailable([t4]);
  return t4;
}

/** `hibari_cluster_raft_leader` of each node in `set`: the one leader among them, or false. */
async function raftLeaderAmong(set) {
  const ls = [];
  for (const n of set) if (/^hibari_cluster_raft_leader 1$/m.test(await n.metrics().catch(() => ''))) ls.push(n);
  return ls.length === 1 && ls[0];
}
/** The session ids every node's ListConnections shows for `channel` (a channel must never have two). */
async function sessionIdsOf(nodes, channel) {
  const ids = new Set();
  for (const n of nodes) {
    const r = await n.api('Sora_20201013.ListConnections').catch(() => null);
    for (const c of Array.isArray(r?.json) ? r.json : []) if (c.channel_id === channel) ids.add(c.session_id);
  }
  return [...ids];
}

// Issue 13 part 1: a cut between the two followers only. Each still reaches the leader, so each still sees a majority
// of the regular nodes (itself and the leader, C-MAJ-1): the spec lets both keep serving, and nothing is elected.
scenario('cluster_partition_followers', async ctx => {
  if (!inNetns) { console.log('    cluster_partition_followers: not in a private network namespace; iptables not tried'); return; }
  const nodes = await ctx.cluster({ default_cluster_affinity: false });
  const leader = await until('one Raft leader', () => raftLeaderAmong(nodes));
  const [f1, f2] = nodes.filter(n => n !== leader);
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', f1, { channel: channelName('pf-a'), role: 'sendrecv' });
  const b = await client(ctx, page, 'B', f2, { channel: channelName('pf-b'), role: 'sendrecv' });
  mustConnect(a.first, b.first);
  ctx.closers.push(healAll);
  cutClusterPorts(f1.ip, f2.ip);
  // 6 s (several election timeouts): every node stays available, the leader stays, A and B stay connected.
  const until6 = Date.now() + 6000;
  while (Date.now() < until6) {
    for (const n of nodes) check(await n.available(), `${n.name} became unavailable with only F1–F2 cut`);
    await sleep(250);
  }
  check(await raftLeaderAmong(nodes) === leader, `the leader changed with only F1–F2 cut (${(await raftLeaderAmong(nodes))?.name})`);
  for (const h of [a, b]) check((await h.summary()).disconnects.length === 0, `${h.name} was disconnected: ${short((await h.summary()).disconnects)}`);
  // Both followers still commit through the leader: each opens a new channel.
  const c = await client(ctx, page, 'C', f1, { channel: channelName('pf-c'), role: 'sendrecv' });
  const d = await client(ctx, page, 'D', f2, { channel: channelName('pf-d'), role: 'sendrecv' });
  mustConnect(c.first, d.first);
  console.log(`    cluster_partition_followers: ${f1.name}–${f2.name} cut for 6 s: all available, ${leader.name} still leads, new channels opened on both`);
});

// Issue 13 part 1: a temporary node cut off from the regular ones is removed within 5 s (its lease is not renewed),
// closes its clients, and returns by itself once the cut heals (C-MAJ-2, C-MAJ-3, C-CONF-9).
scenario('cluster_partition_temporary', async ctx => {
  if (!inNetns) { console.log('    cluster_partition_temporary: not in a private network namespace; iptables not tried'); return; }
  const nodes = await ctx.cluster({ default_cluster_affinity: false });
  const [n1] = nodes;
  const t4 = await addTemporaryNode(ctx, 'c-partition_temporary-t4', n1);
  const listed = async on => {
    const r = await on.api('Sora_20211215.ListClusterNodes');
    return Array.isArray(r.json) && r.json.some(x => x.node_name === t4.nodeName);
  };
  for (const n of nodes) await until(`${n.name} lists t4`, () => listed(n));
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', t4, { channel: channelName('pt-a'), role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, t4, t4);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  ctx.closers.push(healAll);
  const cutAt = Date.now();
  for (const n of nodes) cutClusterPorts(t4.ip, n.ip);
  const d = await until('A closed by the cut-off temporary node', async () => (await a.summary()).disconnects[0], { every: 50 });
  check(d.code === 4502 && d.at - cutAt <= 3000, `A's disconnect ${short(d)} ${d.at - cutAt} ms after the cut, want 4502 within 3000 ms`);
  await until('t4 removed on every regular node', async () => { for (const n of nodes) if (await listed(n)) return false; return true; }, { every: 100 });
  const removed = Date.now() - cutAt;
  console.log(`    cluster_partition_temporary: A closed ${d.at - cutAt} ms and t4 removed everywhere ${removed} ms after the cut`);
  check(removed <= 5000, `t4 removed ${removed} ms after the cut, want ≤ 5000 ms`);
  healAll();
  const healedAt = Date.now();
  await until('t4 back by itself', async () => (await listed(n1)) && t4.available(), { every: 200, ms: opt.timeoutMs * 2 });
  console.log(`    cluster_partition_temporary: t4 listed and available again ${Date.now() - healedAt} ms after the heal`);
  const b = await client(ctx, page, 'B', t4, { channel: channelName('pt-b'), role: 'sendrecv' });
  mustConnect(b.first);
  servedBy(b.first, t4, t4);
});

// Issue 13 part 2: the publisher's node SIGKILLed mid-call. Subscribers on the two other nodes are told within 3 s
// (connection.destroyed, tracks gone), their call with another publisher keeps its media, and the publisher, connecting
// again with the dead node's URL first and another one next (sora-js-sdk tries them), is seen again by both.
scenario('cluster_crash_publisher', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ default_cluster_affinity: false });
  const channel = channelName('crash');
  const page = await harnessPage(ctx, 'page');
  const p = await client(ctx, page, 'P', n1, { channel, role: 'sendonly' });
  const q = await client(ctx, page, 'Q', n2, { channel, role: 'sendonly' });
  const s2 = await client(ctx, page, 'S2', n2, { channel, role: 'recvonly' });
  const s3 = await client(ctx, page, 'S3', n3, { channel, role: 'recvonly' });
  mustConnect(p.first, q.first, s2.first, s3.first);
  for (const [h, n] of [[p, n1], [q, n2], [s2, n2], [s3, n3]]) servedBy(h.first, n, n);
  const [idp, idq] = [p.first.connectionId, q.first.connectionId];
  await waitMediaFrom(s2, [idp, idq], 'P (relayed) and Q');
  await waitMediaFrom(s3, [idp, idq], 'P and Q (both relayed)');
  const before = (await s3.summary()).inbound[idq].framesDecoded;
  const killedAt = Date.now();
  await n1.kill();
  for (const h of [s2, s3]) {
    await until(`${h.name} to see P leave after n1's SIGKILL`, async () => {
      const s = await h.summary();
      return s.notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === idp) && !s.remoteConnectionIds.includes(idp);
    }, { ms: 15000, every: 50 });
    const took = Date.now() - killedAt;
    console.log(`    cluster_crash_publisher: ${h.name} saw P (on the killed n1) leave ${took} ms after SIGKILL`);
    check(took <= 3000, `${h.name} saw P's departure ${took} ms after SIGKILL of n1, want ≤ 3000 ms`);
  }
  await until('S3 keeps decoding Q (relayed n2 → n3) after n1 died', async () => (await s3.summary()).inbound[idq].framesDecoded > before + 30,
    { detail: async () => (await s3.summary()).inbound });
  // P again, with n1's URL first: the SDK moves on to n2.
  const p2 = await client(ctx, page, 'P2', [n1, n2], { channel, role: 'sendonly' });
  mustConnect(p2.first);
  const idp2 = p2.first.connectionId;
  await waitMediaFrom(s2, [idp2], 'P again (on n2)');
  await waitMediaFrom(s3, [idp2], 'P again (relayed n2 → n3)');
  console.log(`    cluster_crash_publisher: P reconnected through ${p2.first.connectedUrl} and was seen again by S2 and S3`);
});

// Issue 14 part 6: the cluster dashboard (docs/decisions.md D-53), read in Chromium. Its node table must show what the
// API's ListClusterNodes says (mode, up/down, connections, capacity), its channel table where a channel's connections
// are, and when the node the page reads from is SIGKILLed the page moves to another node and shows it down within 5 s.
// With HIBARI_E2E_SCREENSHOTS=DIR the page is saved as DIR/dashboard.png (the README's picture).
scenario('cluster_dashboard', async ctx => {
  const [n1, n2, n3] = await ctx.cluster({ dashboard: true, default_cluster_affinity: false });
  const nodes = [n1, n2, n3];
  const channel = channelName('dash');
  const page = await harnessPage(ctx, 'clients');
  const a = await client(ctx, page, 'A', n2, { channel, role: 'sendrecv' });
  const b = await client(ctx, page, 'B', n3, { channel, role: 'sendrecv' });
  mustConnect(a.first, b.first);
  await waitMediaFrom(b, [a.first.connectionId], 'A (relayed n2 → n3)');

  const context = await (await getBrowser()).newContext({ viewport: { width: 1100, height: 760 } });
  ctx.closers.push(() => context.close());
  const dash = await context.newPage();
  dash.on('pageerror', e => ctx.console.push(`[dashboard] pageerror ${e.message}`));
  await dash.goto(`${n1.apiUrl}dashboard`);
  const shown = () => dash.evaluate(() => ({
    status: document.getElementById('status').textContent,
    nodes: [...document.querySelectorAll('#nodes tbody tr[data-node]')].map(tr => ({ node: tr.dataset.node, cells: [...tr.children].map(td => td.textContent) })),
    channels: [...document.querySelectorAll('#channels tbody tr[data-channel]')].map(tr => ({ channel: tr.dataset.channel, owners: tr.children[1].textContent })),
    relay: [...document.querySelectorAll('#relay tbody tr[data-peer]')].map(tr => tr.dataset.peer),
  }));
  // Columns: node, type, raft, mode, state, connections, capacity, load report age.
  const viaOf = s => nodes.find(n => s.status.startsWith(`via ${n.nodeName} `));
  await until('the dashboard to show every node as the API lists it, and the channel on n2 and n3', async () => {
    const s = await shown();
    const via = viaOf(s);
    if (!via || s.nodes.length !== 3) return false;
    const api = (await via.api('Sora_20211215.ListClusterNodes')).json;
    const same = api.every(r => {
      const row = s.nodes.find(x => x.node === r.node_name);
      return row && row.cells[3] === r.mode && row.cells[4] === (r.connected ? 'up' : 'down')
        && row.cells[5] === String(r.connections) && row.cells[6] === String(r.capacity) && row.cells[1] === (r.temporary_node ? 'temporary' : 'regular');
    });
    const ch = s.channels.find(c => c.channel === channel);
    // One connection of the channel on each of n2 and n3 (their load reports).
    return same && ch && ch.owners.includes(`${n2.nodeName} (1)`) && ch.owners.includes(`${n3.nodeName} (1)`) && s.nodes.filter(r => r.cells[2] === 'leader').length === 1;
  }, { detail: async () => JSON.stringify(await shown()) });
  const before = await shown();
  const via = viaOf(before);
  console.log(`    cluster_dashboard: the page reads ${via.name}; nodes ${before.nodes.map(r => `${r.node}=${r.cells[4]}/${r.cells[5]}`).join(' ')}`);
  if (process.env.HIBARI_E2E_SCREENSHOTS) {
    fs.mkdirSync(process.env.HIBARI_E2E_SCREENSHOTS, { recursive: true });
    await dash.screenshot({ path: path.join(process.env.HIBARI_E2E_SCREENSHOTS, 'dashboard.png'), fullPage: true });
  }

  // The node the page reads from dies: the page moves to another and shows it down within 5 s.
  const killedAt = Date.now();
  await via.kill();
  await until(`the dashboard to show ${via.name} down from another node`, async () => {
    const s = await shown();
    const other = viaOf(s);
    return other && other !== via && s.nodes.find(r => r.node === via.nodeName)?.cells[4] === 'down';
  }, { ms: 15000, every: 100, detail: async () => JSON.stringify(await shown()) });
  const took = Date.now() - killedAt;
  console.log(`    cluster_dashboard: ${via.name} shown down ${took} ms after SIGKILL, read from ${viaOf(await shown()).name}`);
  check(took <= 5000, `${via.name} shown down ${took} ms after SIGKILL, want ≤ 5000 ms`);
  check(ctx.console.length === 0, `page errors: ${ctx.console.join('; ')}`);
});

// Issue 13 part 1: a one-way cut, the leader's packets to F1 dropped (F1 no longer hears L; L still hears F1). TCP needs
// both directions, so the L–F1 links and Raft connections fail both ways, while F2 still hears both: F2 and each of the
// others are a majority (C-MAJ-1), and Raft may move the leadership. What the spec asks, and what is asserted: F2
// (which reaches everyone) serves throughout and the cluster keeps committing (new channels open through F2), no
// channel ever has two sessions, and once healed every node is available under one leader.
scenario('cluster_partition_oneway', async ctx => {
  if (!inNetns) { console.log('    cluster_partition_oneway: not in a private network namespace; iptables not tried'); return; }
  const nodes = await ctx.cluster({ default_cluster_affinity: false });
  const leader = await until('one Raft leader', () => raftLeaderAmong(nodes));
  const [f1, f2] = nodes.filter(n => n !== leader);
  const page = await harnessPage(ctx, 'page');
  const ch = channelName('pow');
  const b = await client(ctx, page, 'B', f2, { channel: ch, role: 'sendrecv' });
  mustConnect(b.first);
  servedBy(b.first, f2, f2);
  ctx.closers.push(healAll);
  for (const proto of ['tcp', 'udp'])
    iptables('-I', 'INPUT', '-s', leader.ip, '-d', f1.ip, '-p', proto, '-m', 'multiport', '--ports', CLUSTER_PORT_RANGE, '-j', 'DROP');
  const end = Date.now() + 10000;
  let samples = 0, opened = 0;
  while (Date.now() < end) {
    check(await f2.available(), `${f2.name}, which hears every node, became unavailable during the one-way cut`);
    const ids = await sessionIdsOf(nodes, ch);
    check(ids.length <= 1, `channel ${ch} has ${ids.length} sessions during the one-way cut`);
    samples++;
    if (opened < 2 && Date.now() > end - 7000) {
      const c = await client(ctx, page, `C${opened}`, f2, { channel: channelName(`pow-${opened}`), role: 'sendrecv' });
      mustConnect(c.first); // a new session, committed through whichever node leads now
      opened++;
    }
    await sleep(250);
  }
  check((await b.summary()).disconnects.length === 0, `B (on ${f2.name}) was disconnected: ${short((await b.summary()).disconnects)}`);
  healAll();
  const healedAt = Date.now();
  await waitAvailable(nodes, opt.timeoutMs * 2);
  const after = await until('one Raft leader after the heal', () => raftLeaderAmong(nodes));
  console.log(`    cluster_partition_oneway: ${leader.name} → ${f1.name} dropped for 10 s: ${f2.name} available in ${samples} samples, ${opened} new channels opened on it, never two sessions; all available ${Date.now() - healedAt} ms after the heal, ${after.name} leads`);
});

// Issue 13 part 1: flapping links. The leader's cluster ports are cut and healed every 2 s for 30 s. Allowed: the
// leader's side closes its clients and leadership moves; required: the majority's call keeps its media, no channel
// ever has two sessions (sampled on every node throughout), and the cluster settles with every node available.
scenario('cluster_partition_flapping', async ctx => {
  if (!inNetns) { console.log('    cluster_partition_flapping: not in a private network namespace; iptables not tried'); return; }
  const nodes = await ctx.cluster({ default_cluster_affinity: false });
  const leader = await until('one Raft leader', () => raftLeaderAmong(nodes));
  const [f1, f2] = nodes.filter(n => n !== leader);
  const page = await harnessPage(ctx, 'page');
  const ch = channelName('pfl');
  const p = await client(ctx, page, 'P', f1, { channel: ch, role: 'sendonly' });
  mustConnect(p.first);
  const r = await client(ctx, page, 'R', f2, { channel: ch, role: 'recvonly' });
  mustConnect(r.first);
  const pid = p.first.connectionId;
  await waitMediaFrom(r, [pid], 'P across relay');
  ctx.closers.push(healAll);
  const framesBefore = (await r.summary()).inbound[pid].framesDecoded;
  const end = Date.now() + 30000;
  let cuts = 0, samples = 0;
  for (let cut = true; Date.now() < end; cut = !cut) {
    if (cut) { cutClusterPorts(leader.ip, f1.ip); cutClusterPorts(leader.ip, f2.ip); cuts++; } else healAll();
    const phaseEnd = Date.now() + 2000;
    while (Date.now() < phaseEnd) {
      const ids = await sessionIdsOf(nodes, ch);
      samples++;
      check(ids.length <= 1, `channel ${ch} has ${ids.length} sessions (${ids}) during the flapping`);
      await sleep(200);
    }
  }
  healAll();
  await waitAvailable(nodes, opt.timeoutMs * 2);
  const frames = (await r.summary()).inbound[pid].framesDecoded - framesBefore;
  console.log(`    cluster_partition_flapping: ${cuts} cuts of ${leader.name} in 30 s; ${samples} samples of every node's sessions, never two; R decoded ${frames} frames of P meanwhile; all available again`);
  check(frames >= 30 * 10, `R decoded only ${frames} frames of P in 30 s of flapping (the majority's call)`);
  check((await sessionIdsOf(nodes, ch)).length === 1, `channel ${ch} sessions after the flapping: ${await sessionIdsOf(nodes, ch)}`);
});

scenario('cluster_api_307', async ctx => {
  const [n1, n2] = await ctx.cluster();
  const channel = channelName('api307');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n2, { channel, role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n2, n2);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  await waitOwners(n1, channel, [n2.nodeName]);
  const body = JSON.stringify({ channel_id: channel });
  const head = ['-sS', '-X', 'POST', '-H', 'content-type: application/json', '--data', body];
  // Without -L: 307 with Location = n2's external_api_url (C-API-1); a read-only call, nothing happens.
  const r0 = await curl([...head, '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-H', 'x-sora-target: Sora_20201013.ListChannelConnections', n1.apiUrl]);
  check(r0.code === 0 && r0.stdout.trim() === `307 ${n2.apiUrl}`, `curl (no -L) ListChannelConnections on n1 → '${r0.stdout}' (exit ${r0.code} ${r0.stderr}), want '307 ${n2.apiUrl}'`);
  check((await a.summary()).disconnects.length === 0, 'A disconnected by a read-only call');
  const t0 = Date.now();
  const r = await curl([...head, '-L', '-o', '/dev/null', '-w', '%{http_code} %{num_redirects}', '-H', 'x-sora-target: Sora_20151104.DisconnectChannel', n1.apiUrl]);
  check(r.code === 0 && r.stdout.trim() === '200 1', `curl -L DisconnectChannel on n1 → '${r.stdout}' (exit ${r.code} ${r.stderr}), want '200 1'`);
  const d = await until('A `disconnect` callback', async () => (await a.summary()).disconnects[0]);
  check(d.type === 'normal', `A disconnect ${short(d)}, want type normal (WS close 1000)`);
  console.log(`    cluster_api_307: disconnect callback ${d.at - t0} ms after curl started`);
});

scenario('cluster_minority_disconnect', async ctx => {
  const [n1, n2, n3] = await ctx.cluster();
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', n1, { channel: channelName('minority'), role: 'sendrecv' });
  mustConnect(a.first);
  servedBy(a.first, n1, n1);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  // C-MAJ-2: n1 alone is a minority of 3; it must close its clients within a few seconds (Hibari: 3 s).
  const killedAt = Date.now();
  killTree(n2.proc.pid, 'SIGKILL');
  killTree(n3.proc.pid, 'SIGKILL');
  const d = await until('A `disconnect` callback after n2 and n3 were killed', async () => (await a.summary()).disconnects[0], { every: 50 });
  const took = d.at - killedAt;
  console.log(`    cluster_minority_disconnect: A's disconnect fired ${took} ms after SIGKILL (${short(d)})`);
  check(took <= 3000, `A's disconnect fired ${took} ms after SIGKILL of n2 and n3, want ≤ 3000 ms (C-MAJ-2): ${short(d)}`);
  check(d.code === 4502 && d.reason === 'CLUSTER-MAJORITY-LOST', `A's disconnect ${short(d)}, want WS close 4502 CLUSTER-MAJORITY-LOST`);
  await n2.kill(); await n3.kill();
  check(!(await n1.available()), 'n1 still reports hibari_available 1 in a minority');
  // ... and refuses new connections while in the minority.
  const x = await client(ctx, page, 'X', n1, { channel: channelName('minority-x'), role: 'sendrecv' });
  check(x.first.state === 'failed' && x.first.error.code === 4502 && x.first.error.reason === 'CLUSTER-MAJORITY-LOST',
    `a connect to n1 in the minority: ${x.first.state} ${short(x.first.error)}, want refused with 4502 CLUSTER-MAJORITY-LOST`);
  // Back with the same data_dir: they rejoin by themselves (C-MEM-3), n1 serves again (C-MAJ-3).
  const restartedAt = Date.now();
  n2.spawn(); n3.spawn();
  await waitAvailable([n1, n2, n3], opt.timeoutMs * 2);
  console.log(`    cluster_minority_disconnect: n1..n3 available again ${Date.now() - restartedAt} ms after the restart`);
  // The client reconnects through another node's URL (any healthy node takes any connect, C-CLIENT-1), and n1 serves too.
  const a2 = await client(ctx, page, "A'", [n2], { channel: channelName('minority2'), role: 'sendrecv' });
  mustConnect(a2.first);
  servedBy(a2.first, n2, n2);
  await until("A' `connected` callback", async () => (await a2.summary()).connectedCallback);
  const a3 = await client(ctx, page, "A''", [n1], { channel: channelName('minority3'), role: 'sendrecv' });
  mustConnect(a3.first);
  servedBy(a3.first, n1, n1);
});

// Messaging (issue 5, docs/protocol-notes.md, "Messaging"): three messaging() clients on one node, four kinds of label.
const MESSAGING_LABELS = [
  { label: '#chat', direction: 'sendrecv' },
  { label: '#fast', direction: 'sendrecv', ordered: false, maxRetransmits: 0 },
  { label: '#zip', direction: 'sendrecv', compress: true },
  { label: '#hdr', direction: 'sendrecv', header: [{ type: 'sender_connection_id' }] },
];

/** Sends from `from` on `label` and waits until every client in `to` got a message with that size and hash. */
async function sendAndWait(from, to, label, opts) {
  const sent = await from.page.evaluate(([n, l, o]) => window.harness.send(n, l, o), [from.name, label, opts]);
  for (const h of to) {
    await until(`${h.name} to receive ${from.name}'s ${sent.size}-byte message on ${label}`, async () =>
      (await h.summary()).messages.some(m => m.label === label && m.hash === sent.hash && m.size === sent.size),
      { detail: async () => (await h.summary()).messages.filter(m => m.label === label).slice(-5) });
  }
  return sent;
}

scenario('messaging', async ctx => {
  const node = await ctx.node('n1', { data_channel_messaging: 'true' });
  const channel = channelName('msg');
  const page = await harnessPage(ctx, 'page');
  const cs = [];
  for (const n of ['A', 'B', 'C']) {
    const h = await client(ctx, page, n, node, { channel, role: 'messaging', options: { dataChannels: MESSAGING_LABELS } });
    mustConnect(h.first);
    cs.push(h);
  }
  const [a, b, c] = cs;
  for (const h of cs) {
    const s = await until(`${h.name} switched with its 4 messaging channels open`, async () => {
      const s = await h.summary();
      return s.switched && MESSAGING_LABELS.every(l => s.datachannels.some(d => d.label === l.label)) && s;
    }, { detail: async () => { const s = await h.summary(); return { switched: s.switched, dcs: s.datachannels, sig: s.signaling.slice(-8) }; } });
    const fast = s.datachannels.find(d => d.label === '#fast');
    check(fast.ordered === false && fast.maxRetransmits === 0, `#fast as the client sees it: ${short(fast)}`);
    check(s.datachannels.find(d => d.label === '#zip').compress === true, `#zip not compressed: ${short(s.datachannels)}`);
  }
  // A's message on #chat reaches B and C, never A.
  const hello = await sendAndWait(a, [b, c], '#chat', { size: 5, seed: 7, text: true });
  // A 200 KB message arrives whole (SCTP fragmentation and reassembly both ways).
  await sendAndWait(a, [b, c], '#chat', { size: 200_000, seed: 3 });
  // Unordered, max_retransmits 0: on loopback nothing is lost, so every message arrives.
  for (let i = 0; i < 20; i++) await a.page.evaluate(([n, k]) => window.harness.send(n, '#fast', { size: 100, seed: 100 + k }), [a.name, i]);
  await until('B to receive A\'s 20 messages on #fast', async () => (await b.summary()).messages.filter(m => m.label === '#fast').length === 20,
    { detail: async () => (await b.summary()).messages.filter(m => m.label === '#fast').length });
  // compress: the SDK deflates, the node inflates and deflates again per receiver; the content survives.
  await sendAndWait(b, [a, c], '#zip', { size: 50_000, seed: 5, text: true });
  // header: the receiver's message starts with the sender's 26-byte connection id.
  const hdr = await b.page.evaluate(([n]) => window.harness.send(n, '#hdr', { size: 10, seed: 9, text: true }), [b.name]);
  for (const h of [a, c]) {
    const m = await until(`${h.name} to receive B's #hdr message`, async () =>
      (await h.summary()).messages.find(m => m.label === '#hdr'));
    check(m.size === hdr.size + 26 && m.head === b.first.connectionId, `${h.name} #hdr message size ${m.size} head '${m.head}', want ${hdr.size + 26} and ${b.first.connectionId}`);
  }
  // By now A has had plenty of time to (wrongly) get its own message back.
  const sa = await a.summary();
  check(!sa.messages.some(m => m.label === '#chat' && m.hash === hello.hash), `A received its own #chat message: ${short(sa.messages)}`);
  const stats = await node.api('Sora_20171010.GetStatsReport', {});
  check(stats.status === 200 && stats.json.total_received_messages === 24 && stats.json.total_sent_messages === 48 && stats.json.total_dropped_messages === 0,
    `GetStatsReport messaging counters: ${short(Object.fromEntries(Object.entries(stats.json ?? {}).filter(([k]) => k.includes('message'))))}`);
});

// Issue 13 part 3, on the real server process: its signaling WebSocket (raw frames over TCP: garbage headers, unmasked,
// reserved bits and opcodes, huge announced lengths, fragments, text and binary garbage, never-sending clients), its
// UDP media port (random and STUN/DTLS/RTP/RTCP-shaped datagrams) and every API target it has (mutated JSON bodies).
// Afterwards: the node answers, a new sora-js-sdk pair connects and gets media, and its RSS, threads and file
// descriptors come back within 10 % of what they were before (the same warm node, idle). Counts per round: scaled by
// HIBARI_E2E_FUZZ (default 200 sockets, 20,000 datagrams, 1,500 API bodies; the xunit live-port targets run the
// 1,000,000 ones); HIBARI_E2E_FUZZ_ROUNDS rounds after the baseline (default 1).
function procResources(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = k => Number(status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm'))?.[1] ?? NaN);
  return { rssMiB: Math.round(field('VmRSS') / 1024), threads: field('Threads'), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

/** Waits (40 s) until `pid`'s RSS, threads and fds are within 10 % (and two units of slack) of `base`; returns them. */
async function untilResourcesNear(pid, base, what, detail = () => ({})) {
  let now;
  const within = (a, b) => a <= b * 1.1 + 2;
  await until(`${what}'s RSS, threads and file descriptors within 10 % of the baseline`, () => {
    now = procResources(pid);
    return within(now.rssMiB, base.rssMiB) && within(now.threads, base.threads) && within(now.fds, base.fds);
  }, { ms: 40000, every: 1000, detail: () => ({ base, now, ...detail() }) });
  return now;
}

/** One raw WebSocket exchange: upgrade, then `frames` (Buffers); resolves with how it ended (never hangs past `ms`). */
function rawWebSocket(host, port, frames, ms = 15000) {
  return new Promise(resolve => {
    const sock = net.connect(port, host);
    let got = Buffer.alloc(0), upgraded = false, sent = false;
    const done = how => { clearTimeout(t); sock.destroy(); resolve(how); };
    const t = setTimeout(() => done('hung'), ms);
    sock.on('connect', () => sock.write(`GET /signaling HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    sock.on('data', d => {
      got = Buffer.concat([got, d]);
      if (!upgraded) {
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!got.subarray(0, 12).toString().includes('101')) return done(`no upgrade: ${got.subarray(0, 40)}`);
        upgraded = true; got = got.subarray(end + 4);
      }
      if (!sent) { sent = true; for (const f of frames) sock.write(f); }
      // A close frame from the node (opcode 8): it ended the exchange itself.
      if (got.length >= 2 && (got[0] & 0x0f) === 8) done(`close ${got.length >= 4 ? got.readUInt16BE(2) : ''}`);
    });
    sock.on('error', () => done('reset'));
    sock.on('close', () => done('closed'));
  });
}

/** A client frame: masked unless told otherwise. */
function wsFrame(opcode, payload, { fin = true, masked = true, rsv = 0, lengthOverride = null } = {}) {
  const len = lengthOverride ?? payload.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode)];
  const ext = [];
  if (len < 126) head.push((masked ? 0x80 : 0) | len);
  else if (len < 65536) { head.push((masked ? 0x80 : 0) | 126); ext.push(len >> 8, len & 255); }
  else { head.push((masked ? 0x80 : 0) | 127); const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); ext.push(...b); }
  const mask = masked ? crypto.randomBytes(4) : Buffer.alloc(0);
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from(head), Buffer.from(ext), mask, body]);
}

function wsGarbage(r) {
  const bytes = n => crypto.randomBytes(n);
  switch (r % 9) {
    case 0: return [bytes(1 + (r % 200))];                                          // not a frame at all
    case 1: return [wsFrame(1, Buffer.from('{"type":"connect"'), { masked: false })]; // unmasked client frame
    case 2: return [wsFrame(1 + (r % 2), bytes(50), { rsv: 1 + (r % 7) })];          // reserved bits
    case 3: return [wsFrame(3 + (r % 5), bytes(20))];                               // reserved data opcodes
    case 4: return [wsFrame(1, Buffer.alloc(0), { lengthOverride: 2 ** 40 })];      // announces a terabyte
    case 5: return [wsFrame(1, bytes(300))];                                        // text that is not UTF-8
    case 6: return [wsFrame(2, bytes(1 + (r % 3000)))];                             // binary garbage
    case 7: return [wsFrame(1, Buffer.from('{"type":"conn'), { fin: false }), wsFrame(9, bytes(10)), wsFrame(0, Buffer.from('ect","role":5}'))]; // fragments around a ping
    default: return [wsFrame(9, bytes(200))];                                       // control frame over 125 bytes
  }
}

function udpGarbage(r) {
  const b = crypto.randomBytes(20 + (r % 1200));
  switch (r % 5) {
    case 0: b[0] = 0; b[1] = 1; b.writeUInt16BE(Math.max(0, b.length - 20) & 0xfffc, 2); b.writeUInt32BE(0x2112a442, 4); break; // STUN-shaped
    case 1: b[0] = 20 + (r % 44); b[1] = 0xfe; b[2] = 0xfd; break;                 // DTLS-shaped
    case 2: b[0] = 0x80; b[1] = 96 + (r % 32); break;                                 // RTP-shaped
    case 3: b[0] = 0x80; b[1] = 200 + (r % 7); break;                                 // RTCP-shaped
    default: break;                                                                 // random
  }
  return b;
}

scenario('fuzz_then_browser', async ctx => {
  const scale = Number(process.env.HIBARI_E2E_FUZZ ?? 1);
  // 32 sockets at a time from one address (the default allows 16 pending per address, D-44: the rest would be refused
  // before their garbage is read).
  const node = await ctx.node('n1', { signaling_max_pending_per_address: 64 });
  const pid = node.proc.pid;
  const page = await harnessPage(ctx, 'page');
  const phases = [];
  let phaseAt = Date.now();
  const phase = name => { phases.push(`${name} ${Date.now() - phaseAt} ms ${JSON.stringify(procResources(pid))}`); phaseAt = Date.now(); };
  const targets = new Set();
  const walk = dir => { for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) walk(path.join(dir, e.name));
    else if (e.name.endsWith('.cs')) for (const m of fs.readFileSync(path.join(dir, e.name), 'utf8').matchAll(/"(Sora_\d{8}\.[A-Za-z]+)"/g)) targets.add(m[1]);
  } };
  walk(path.join(REPO, 'src/Hibari'));
  const names = [...targets].sort();
  check(names.length > 20, `only ${names.length} API targets found in src/Hibari`);
  const sockets = Math.round(200 * scale), datagrams = Math.round(20000 * scale), bodies = Math.round(1500 * scale);
  const ends = {}, statuses = {};

  /** A call through sora-js-sdk: P publishes, R must decode it; both leave and the node is empty again. */
  async function call(tag) {
    const channel = channelName(`fuzz-${tag}`);
    const p = await client(ctx, page, `P-${tag}`, node, { channel, role: 'sendonly' });
    const r = await client(ctx, page, `R-${tag}`, node, { channel, role: 'recvonly' });
    mustConnect(p.first, r.first);
    await waitMediaFrom(r, [p.first.connectionId], `P-${tag}`);
    await r.stop(); await p.stop();
    await until(`the ${tag} call to leave the node`, async () => /^hibari_connections 0$/m.test(await node.metrics()));
  }

  /** Every port once: signaling WebSocket, UDP media, every API target. */
  async function round(tag) {
    // Signaling: raw frames, 32 sockets at a time (a frame left incomplete waits for the node's 10 s connect timeout),
    // plus 2 that never send.
    const silent = [rawWebSocket(node.ip, node.signalingPort, [], 20000), rawWebSocket(node.ip, node.signalingPort, [], 20000)];
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < sockets) {
        const how = await rawWebSocket(node.ip, node.signalingPort, wsGarbage(next++));
        const key = how.split(' ').slice(0, 2).join(' ');
        ends[key] = (ends[key] ?? 0) + 1;
      }
    }));
    const silentEnds = await Promise.all(silent);
    check(!ends.hung && !Object.keys(ends).some(k => k.startsWith('no ')), `signaling sockets the node left hanging or did not upgrade: ${JSON.stringify(ends)}`);
    check(silentEnds.every(s => s === 'close 4010'), `never-sending sockets: ${silentEnds} (want close 4010)`);
    phase(`${tag} websocket`);
    // UDP media port: random and shaped datagrams from one socket, as fast as it sends.
    const udp = dgram.createSocket('udp4');
    await new Promise(res => udp.bind(0, '127.0.0.1', res));
    for (let i = 0; i < datagrams; i++) await new Promise(res => udp.send(udpGarbage(i), node.rtcUdpPort, node.ip, res));
    udp.close();
    phase(`${tag} udp`);
    // Every API target the server has, with mutated bodies, 10 at a time.
    const value = i => [null, 0, -1, 1e308, '', 'x'.repeat(i % 5000), [], {}, [{}], { a: [1] }, true, 'ch', '\ud800'][i % 13];
    for (let i = 0; i < bodies; i += 10) {
      await Promise.all(Array.from({ length: 10 }, async (_, k) => {
        const n = i + k, target = names[n % names.length];
        const obj = {};
        for (const key of ['channel_id', 'connection_id', 'client_id', 'recording_id', 'node_name', 'data', 'metadata', 'rid', 'spotlight_number'].filter((_, j) => (n >> j) & 1)) obj[key] = value(n + key.length);
        let body = JSON.stringify(obj);
        if (n % 7 === 0) body = body.slice(0, n % Math.max(1, body.length));
        if (n % 11 === 0) body = crypto.randomBytes(n % 500).toString('latin1');
        const res = await fetch(node.apiUrl, { method: 'POST', headers: { 'x-sora-target': target, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10000) });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        check(res.status < 500, `${target} answered ${res.status} to ${short(body, 120)}`);
      }));
    }
    phase(`${tag} api`);
  }

  // Warm the node with a call and two rounds of everything: the heap grows to what these inputs need (measured: RSS
  // 90 → 111–114 MiB after the first round, +2–10 after the second, then ±2 a round for five rounds: garbage in the
  // large-object heap that an idle node has no reason to collect yet, not a leak). That is the baseline; one more
  // round, then a new call, must leave the node within 10 % of it — what a leak of sockets, threads, sessions or
  // buffers per input would not.
  await call('warm');
  await round('warm 1');
  await round('warm 2');
  await call('between');
  const base = procResources(pid);
  phase('baseline');
  // HIBARI_E2E_FUZZ_ROUNDS (default 1) rounds after the baseline: more show whether anything keeps growing.
  for (let k = 1; k <= Number(process.env.HIBARI_E2E_FUZZ_ROUNDS ?? 1); k++) await round(`round ${k}`);
  await call('after');
  const now = await untilResourcesNear(pid, base, 'the node', () => ({ phases }));
  phase('after');
  console.log(`    fuzz_then_browser: ${2 + Number(process.env.HIBARI_E2E_FUZZ_ROUNDS ?? 1)} × (${sockets} + 2 sockets, ${datagrams} datagrams, ${bodies} API bodies over ${names.length} targets): ` +
    `sockets ${JSON.stringify(ends)}, API ${JSON.stringify(statuses)}; baseline ${JSON.stringify(base)}, after ${JSON.stringify(now)}; ${phases.join('; ')}`);
});

/** A raw TCP connection that sends `data` and resolves with how it ended within `ms` ('closed', 'reset' or 'open'). */
function rawTcp(host, port, data, ms = 1500) {
  return new Promise(resolve => {
    const sock = net.connect(port, host);
    const done = how => { clearTimeout(t); sock.destroy(); resolve(how); };
    const t = setTimeout(() => done('open'), ms);
    sock.on('connect', () => { if (data.length) sock.write(data); });
    sock.on('data', () => {});
    sock.on('error', () => done('reset'));
    sock.on('close', () => done('closed'));
  });
}

// Issue 13 part 3 for the cluster ports, seen from sora-js-sdk: n1's node-link and Raft ports get TCP garbage (random
// bytes, a link frame header announcing 2 GiB, a cut Hello, TLS-shaped records with random bodies; 16 connections at a
// time, each given 1.5 s before the test drops it); afterwards every node is available, a call relayed n1 → n2 through
// sora-js-sdk gets media, and n1's RSS, threads and file descriptors are within 10 % of the baseline taken after the
// same call before the garbage. The xunit ClusterPortFuzzTests runs the 1,000,000-input version.
scenario('cluster_fuzz_then_browser', async ctx => {
  const [n1, n2] = await ctx.cluster({ default_cluster_affinity: false });
  const pid = n1.proc.pid;
  const page = await harnessPage(ctx, 'page');
  const ports = Object.fromEntries(fs.readFileSync(path.join(n1.dir, 'data', 'cluster-ports'), 'utf8').split('\n')
    .map(l => l.split('=').map(x => x.trim())).filter(kv => kv.length === 2 && /^\d+$/.test(kv[1])).map(([k, v]) => [k, Number(v)]));
  check(ports.link > 0 && ports.raft > 0, `cluster-ports of n1: ${JSON.stringify(ports)}`);
  async function call(tag) {
    const channel = channelName(`cfuzz-${tag}`);
    const p = await client(ctx, page, `P-${tag}`, n1, { channel, role: 'sendonly' });
    const r = await client(ctx, page, `R-${tag}`, n2, { channel, role: 'recvonly' });
    mustConnect(p.first, r.first);
    servedBy(p.first, n1, n1); servedBy(r.first, n2, n2);
    await waitMediaFrom(r, [p.first.connectionId], `P-${tag} (relayed n1 → n2)`);
    await r.stop(); await p.stop();
    await until(`the ${tag} call to leave n1`, async () => /^hibari_connections 0$/m.test(await n1.metrics()));
  }
  const count = Math.round(400 * Number(process.env.HIBARI_E2E_FUZZ ?? 1));
  const ends = {};
  const garbage = i => {
    const r = crypto.randomBytes(1 + (i * 7919) % 2000);
    switch (i % 5) {
      case 0: r[0] = 0x7f; r[1] = 0xff; r[2] = 0xff; r[3] = 0xff; break;             // a length far past any frame
      case 1: return Buffer.concat([Buffer.from([0, 200]), crypto.randomBytes(30)]); // a Hello cut short
      case 2: r[0] = 22; r[1] = 3; r[2] = 3; r.writeUInt16BE(Math.min(16384, r.length), 3); break; // a TLS record, random body
      case 3: return Buffer.alloc(0);                                                // connects and says nothing
      default: break;                                                                // random bytes
    }
    return r;
  };
  async function round() {
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        const how = await rawTcp(n1.ip, i % 2 === 0 ? ports.link : ports.raft, garbage(i));
        ends[how] = (ends[how] ?? 0) + 1;
      }
    }));
  }
  // As in fuzz_then_browser: the baseline after one round (its garbage grows the heap once: RSS +10 % here, not
  // collected by an idle node), then one more round must leave n1 within 10 % of it.
  await call('before');
  await round();
  await call('between');
  const base = procResources(pid);
  await round();
  for (const n of [n1, n2]) await until(`${n.name} available after the garbage`, () => n.available());
  await call('after');
  const now = await untilResourcesNear(pid, base, 'n1');
  console.log(`    cluster_fuzz_then_browser: 2 × ${count} connections to n1's link ${ports.link} and Raft ${ports.raft} ports ended ${JSON.stringify(ends)}; n1 before ${JSON.stringify(base)}, after ${JSON.stringify(now)}`);
});

// Data-channel signaling with ignore_disconnect_websocket: media and re-offers go on after the WebSocket is gone.
scenario('dc_signaling_ignore_ws', async ctx => {
  const node = await ctx.node('n1');
  const channel = channelName('dcsig');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'sendrecv', options: { dataChannelSignaling: true, ignoreDisconnectWebSocket: true } });
  mustConnect(a.first);
  await until('A switched (ignore_disconnect_websocket) and its WebSocket closed', async () => {
    const s = await a.summary();
    return s.switched?.ignore_disconnect_websocket === true && s.ws === null;
  }, { detail: async () => { const s = await a.summary(); return { switched: s.switched, ws: s.ws, sig: s.signaling.slice(-8) }; } });
  // B joins after A's WebSocket is gone: A learns of it (notify on DC) and gets B's tracks (re-offer on DC).
  const b = await client(ctx, page, 'B', node, { channel, role: 'sendrecv' });
  mustConnect(b.first);
  await waitMediaFrom(a, [b.first.connectionId], 'B (re-offer over DC:signaling)');
  await waitMediaFrom(b, [a.first.connectionId], 'A');
  const sa = await a.summary();
  check(sa.notifyVia.includes(`connection.created:${b.first.connectionId}:datachannel`), `A's notify for B did not come on DC: ${short(sa.notifyVia)}`);
  const push = await node.api('Sora_20160711.PushChannel', { channel_id: channel, data: { via: 'dc' } });
  check(push.status === 200, `PushChannel → ${push.status}`);
  await until('A push on DC:push', async () => (await a.summary()).pushVia.includes('datachannel'));
  // Leaving over DC:signaling: the node closes the data channels, B sees A go.
  const stopped = await a.stop();
  check(!stopped.stopError, `A disconnect() failed: ${short(stopped.stopError)}`);
  const last = stopped.disconnects.at(-1);
  check(last?.type === 'normal', `A's disconnect event ${short(stopped.disconnects)}, want normal; timeline ${stopped.timeline.slice(-25).join(', ')}`);
  await until('B notify connection.destroyed for A', async () =>
    (await b.summary()).notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === a.first.connectionId));
  await waitTracksGone(b, a.first.connectionId, 'A');
  // A server-side end of a switched client (DisconnectConnection): `close` on DC:signaling, a normal disconnect with its code.
  const c = await client(ctx, page, 'C', node, { channel, role: 'recvonly', options: { dataChannelSignaling: true, ignoreDisconnectWebSocket: true } });
  mustConnect(c.first);
  await until('C switched', async () => (await c.summary()).switched !== null);
  const disc = await node.api('Sora_20151104.DisconnectConnection', { channel_id: channel, connection_id: c.first.connectionId });
  check(disc.status === 200, `DisconnectConnection → ${disc.status} ${short(disc.text)}`);
  const sc = await until('C `disconnect` callback', async () => { const s = await c.summary(); return s.disconnects.length > 0 && s; });
  check(sc.disconnects[0].type === 'normal' && sc.disconnects[0].code === 1000, `C's disconnect ${short(sc.disconnects)}, want normal with code 1000; timeline ${sc.timeline.slice(-12).join(', ')}`);
});

// Benchmark (not in the test run; `node tests/e2e/run.mjs --only bench_messaging`): messages/s and MB/s between two
// Chromium clients through one node, for several message sizes. Prints one JSON line per size.
scenario('bench_messaging', async ctx => {
  const node = await ctx.node('n1', { data_channel_messaging: 'true' });
  const channel = channelName('bench');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', node, { channel, role: 'messaging', options: { dataChannels: [{ label: '#bench', direction: 'sendonly' }] } });
  const b = await client(ctx, page, 'B', node, { channel, role: 'messaging', options: { dataChannels: [{ label: '#bench', direction: 'recvonly' }] } });
  mustConnect(a.first, b.first);
  await until('#bench open on A and B', async () => (await a.summary()).datachannels.length === 1 && (await b.summary()).datachannels.length === 1);
  for (const [size, count] of [[100, 20000], [1000, 10000], [16384, 600], [65536, 150]]) {
    const r = await page.evaluate(([from, to, size, count]) => window.harness.flood(from, to, '#bench', size, count), ['A', 'B', size, count]);
    const stats = (await node.api('Sora_20171010.GetStatsReport', {})).json ?? {};
    const counters = Object.fromEntries(Object.entries(stats).filter(([k]) => k.includes('message')));
    check(r.received === count, `B received ${r.received} of ${count} ${size}-byte messages; node ${short(counters)}`);
    console.log(`    ${JSON.stringify({ message_size: size, messages: count, seconds: r.seconds, messages_per_s: Math.round(count / r.seconds), mb_per_s: +(count * size / r.seconds / 1e6).toFixed(2) })}`);
  }
}, { bench: true });

// Self-tests: the harness against the stub node (they pass today; run with --selftest).
scenario('selftest_close_reported', async ctx => {
  const stub = await ctx.stub('stub', 'close');
  const channel = channelName('st-close');
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', stub, { channel, role: 'sendrecv', metadata: { token: 'abc' } });
  check(a.first.state === 'failed', `connect did not fail: ${a.first.state}`);
  check(a.first.error.code === 4503 && a.first.error.reason === 'STUB-MEDIA-ENGINE-UNAVAILABLE', `error ${short(a.first.error)}`);
  const m = stub.received.find(x => x?.type === 'connect');
  check(m, `stub got no connect: ${short(stub.received)}`);
  check(m.role === 'sendrecv' && m.channel_id === channel && m.audio === true && m.video === true, `connect fields ${short(m)}`);
  check(m.sora_client === 'Sora JavaScript SDK 2026.1.0' && /^v=0\r\n/.test(m.sdp) && !('multistream' in m), `connect ${short(m)}`);
  check(JSON.stringify(m.metadata) === '{"token":"abc"}', `metadata ${short(m.metadata)}`);
}, { selftest: true });

scenario('selftest_connect_timeout', async ctx => {
  const stub = await ctx.stub('stub', 'silent');
  const page = await harnessPage(ctx, 'page');
  const t0 = Date.now();
  const s = await page.evaluate(o => window.harness.start('A', o), { url: stub.signalingUrl, channel: channelName('st-silent'), role: 'recvonly', timeoutMs: 3000 });
  const took = Date.now() - t0;
  check(s.state === 'failed' && s.error.code === 'TIMEOUT', `connect against a silent server: ${short(s)}`);
  check(took >= 2900 && took < 12000, `connect() settled after ${took} ms, want about 3000 ms`);
  await until('the stub to see the harness close the WebSocket', () => stub.closes.length > 0, { ms: 10000 });
  check(stub.received.some(m => m?.type === 'connect'), 'stub got no connect');
}, { selftest: true });

scenario('selftest_demo_page_error', async ctx => {
  const stub = await ctx.stub('stub', 'close');
  for (const [p, type] of [['/', 'text/html'], ['/demo.js', 'text/javascript'], ['/style.css', 'text/css'], ['/sora.js', 'text/javascript']]) {
    const r = await fetch(stub.pageBase + p, { signal: AbortSignal.timeout(5000) });
    check(r.status === 200 && (r.headers.get('content-type') ?? '').startsWith(type), `GET ${p} → ${r.status} ${r.headers.get('content-type')}`);
  }
  const b = await getBrowser();
  const context = await b.newContext();
  ctx.closers.push(() => context.close());
  const p = await context.newPage();
  p.on('pageerror', e => ctx.console.push(`[demo] pageerror ${e.message}`));
  const channel = channelName('st-demo');
  await p.goto(`${stub.pageBase}/?channel=${channel}`);
  const shown = await until('the demo page to show the close code and reason', () => p.evaluate(() =>
    document.body.dataset.state === 'error' && !document.getElementById('error').hidden && document.getElementById('error').textContent),
  { detail: () => p.evaluate(() => `${document.body.dataset.state}: ${document.getElementById('state').textContent}`) });
  check(/4503/.test(shown) && /STUB-MEDIA-ENGINE-UNAVAILABLE/.test(shown), `error text '${shown}'`);
  const m = stub.received.find(x => x?.type === 'connect');
  check(m?.channel_id === channel && m.role === 'sendrecv', `demo connect ${short(m)}`);
  check(await p.evaluate(() => document.getElementById('signaling-url').textContent === `ws://${location.host}/signaling`), 'signaling URL not derived from location');
  check(await p.evaluate(() => !document.getElementById('join').disabled && document.getElementById('leave').disabled), 'Join/Leave buttons not reset after the failure');
  check(ctx.console.length === 0, `page errors: ${ctx.console.join('; ')}`);
}, { selftest: true });

scenario('selftest_media_loopback', async ctx => {
  // The media assertions of the real scenarios, checked against a plain RTCPeerConnection standing in for the SFU.
  const peerPage = await harnessPage(ctx, 'peer');
  const stub = await ctx.stub('stub', 'peer', peerPage);
  const page = await harnessPage(ctx, 'page');
  const a = await client(ctx, page, 'A', stub, { channel: channelName('st-media'), role: 'sendrecv' });
  mustConnect(a.first);
  check(a.first.connectionId === STUB_SELF_ID, `connection id ${a.first.connectionId}`);
  const s = await waitMediaFrom(a, [STUB_PEER_ID], 'the stub peer');
  check(Object.keys(s.inbound).length === 1, `inbound streams ${Object.keys(s.inbound)}`);
  await until('A `connected` callback', async () => (await a.summary()).connectedCallback);
  await until('the stub peer to decode A\'s video and get its audio', async () => {
    const r = await peerPage.evaluate(() => window.harness.peerInbound('peer'));
    return r.framesDecoded > 0 && r.audioPackets > 0;
  });
  check(s.liveTracks[STUB_PEER_ID]?.join() === 'audio,video', `live tracks ${short(s.liveTracks)}`);
  await stubPeerLeave(stub, peerPage);
  await until('A to get notify connection.destroyed', async () => (await a.summary()).notifies.some(n => n.event_type === 'connection.destroyed' && n.connection_id === STUB_PEER_ID));
  await waitTracksGone(a, STUB_PEER_ID, 'the stub peer');
  await until('the re-answer', () => stub.received.some(m => m?.type === 're-answer'));
  for (const ws of stub.sockets) ws.send(JSON.stringify({ type: 'push', data: { hello: 'world' } }));
  await until('A `push` callback', async () => (await a.summary()).pushes.some(p => JSON.stringify(p.data) === '{"hello":"world"}'));
  for (const ws of stub.sockets) ws.close(1000, '');
  const d = await until('A `disconnect` callback', async () => (await a.summary()).disconnects[0]);
  check(d.type === 'normal', `disconnect ${short(d)}`);
}, { selftest: true });

scenario('selftest_demo_page_media', async ctx => {
  // The demo page (served like the node must) against the stub peer: it shows the other's video playing and the count.
  const peerPage = await harnessPage(ctx, 'peer');
  const stub = await ctx.stub('stub', 'peer', peerPage);
  const b = await getBrowser();
  const context = await b.newContext();
  ctx.closers.push(() => context.close());
  const p = await context.newPage();
  p.on('pageerror', e => ctx.console.push(`[demo] pageerror ${e.message}`));
  await p.goto(`${stub.pageBase}/?channel=${channelName('st-demo-media')}&video=320x240@15`);
  await until('the demo page to connect', () => p.evaluate(id => document.body.dataset.state === 'connected' && document.body.dataset.connectionId === id, STUB_SELF_ID),
    { detail: () => p.evaluate(() => `${document.body.dataset.state}: ${document.getElementById('error').textContent}`) });
  await until('the demo page to play the peer\'s video (videoWidth > 0)', () => p.evaluate(id => {
    const v = document.querySelector(`#remote video[data-connection-id="${id}"]`);
    return v && v.videoWidth > 0 && !v.paused;
  }, STUB_PEER_ID));
  check(await p.evaluate(() => document.getElementById('count').textContent) === '2', 'participant count is not 2');
  check(await p.evaluate(() => document.getElementById('self').videoWidth > 0), 'own camera not shown');
  await stubPeerLeave(stub, peerPage);
  await until('the demo page to drop the peer\'s tile and show 1 participant', () => p.evaluate(id =>
    !document.querySelector(`#remote video[data-connection-id="${id}"]`) && document.getElementById('count').textContent === '1', STUB_PEER_ID));
  await p.click('#leave');
  await until('Leave to clear the grid and reset the buttons', () => p.evaluate(() =>
    document.querySelectorAll('#remote video').length === 0 && !document.getElementById('join').disabled && document.body.dataset.state === 'idle'));
  await until('the stub to see the disconnect', () => stub.received.some(m => m?.type === 'disconnect'));
  check(ctx.console.length === 0, `page errors: ${ctx.console.join('; ')}`);
}, { selftest: true });

// ---------------------------------------------------------------------------------------------- main
if (opt.list) { for (const s of scenarios) console.log(s.selftest ? `${s.name} (--selftest)` : s.bench ? `${s.name} (benchmark: --only)` : s.needs ? `${s.name} (needs ${s.needs})` : s.name); process.exit(0); }
const unknown = (opt.only ?? []).filter(n => !scenarios.some(s => s.name === n));
if (unknown.length) { console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map(s => s.name).join(', ')}`); process.exit(2); }
const selected = opt.only ? scenarios.filter(s => opt.only.includes(s.name))
  : scenarios.filter(s => s.selftest === !!opt.selftest && !s.bench && (!s.needs || process.env[s.needs]));

console.log(`e2e: ${selected.length} scenario(s); server ${path.relative(process.cwd(), DLL)}; ${inNetns ? 'private network namespace (lo only)' : 'host network'}${opt.trace ? '; signaling traced' : ''}`);
for (const sc of selected) {
  if (aborted) break;
  const t0 = Date.now();
  const ctx = { nodes: [], clients: [], closers: [], console: [] };
  ctx.node = async (name, sets, how) => { const n = await startNode(`${sc.name}-${name}`, sets, how); ctx.nodes.push(n); return n; };
  ctx.cluster = async (sets, adjust = () => {}) => {
    const prefix = sc.name.replace(/^cluster_/, 'c-');
    // Pushed before they are waited for, so that a failed start still shows their logs and stops them. `adjust` may add
    // per-node `--set`s before they start (the last one of a key wins).
    return startCluster(prefix, sets, ns => { ctx.nodes.push(...ns); adjust(ns); });
  };
  ctx.stub = async (name, behavior, peerPage) => { const n = await startStubNode(`${sc.name}-${name}`, behavior, peerPage); ctx.nodes.push(n); return n; };
  const traceStart = trace.length;
  try {
    // A scenario's own deadline bounds everything it awaits, including Playwright calls that might hang.
    const limit = opt.timeoutMs * 6;
    await Promise.race([sc.fn(ctx), sleep(limit).then(() => { throw new Failure(`scenario exceeded ${limit} ms`); })]);
    if (aborted) break;
    tally.passed++;
    console.log(`PASS ${sc.name} (${Date.now() - t0} ms)`);
  } catch (e) {
    if (aborted) break;
    tally.failed++;
    const why = e instanceof Failure ? e.message : (e?.stack ?? String(e));
    console.log(`FAIL ${sc.name}: ${why.replace(/\n/g, '\n    ')}`);
    for (const n of ctx.nodes) if (n.exited) console.log(`    node ${n.name} exited ${JSON.stringify(n.exited)}`);
    for (const n of ctx.nodes) { const t = n.logTail(8); if (t) console.log(`    --- ${n.name} log (tail)\n    ${t.replace(/\n/g, '\n    ')}`); }
    if (ctx.console.length) console.log(`    --- browser console\n    ${ctx.console.slice(-10).join('\n    ')}`);
    if (trace.length > traceStart) console.log(`    --- signaling trace\n    ${trace.slice(traceStart).slice(-40).join('\n    ')}`);
  } finally {
    for (const close of ctx.closers.reverse()) await Promise.race([Promise.resolve().then(close).catch(() => {}), sleep(5000)]);
    for (const n of ctx.nodes) await n.stop();
  }
}
if (aborted) await new Promise(() => {}); // abort() prints the summary and exits
console.log(`e2e: ${tally.passed} passed, ${tally.failed} failed`);
await cleanup();
httpServer.close();
process.exit(tally.failed ? 1 : 0);
