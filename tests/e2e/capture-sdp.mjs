#!/usr/bin/env node
// Records, verbatim, the SDPs that headless Chromium (sora-js-sdk 2026.1.0, page.html) and one Hibari node exchange,
// for the SDP fixtures in tests/Hibari.Tests/Sdp/ChromeCaptures.cs.
//
//   node tests/e2e/capture-sdp.mjs [--out FILE] [--no-netns] [--timeout-ms N]
//
// Needs what run.mjs needs (tests/e2e/install.sh, `dotnet build Hibari.slnx -c Release`). It starts one node, relays
// every client's signaling through a recording WebSocket relay (like run.mjs --trace, without truncation) and runs:
//   channel 1: A sendrecv (default codec) connects; B sendrecv joins (re-offer to A); B leaves (re-offer with port 0);
//              R recvonly joins (receives A);
//   channel 2: H sendrecv videoCodecType H264;   channel 3: V sendrecv videoCodecType AV1.
// Writes JSON { meta, clients: { A: [ {dir, t, message}, … ], … } } to FILE (default stdout). `message` is the parsed
// JSON of each signaling message exactly as sent; its `sdp` strings are Chrome's / the node's text unchanged.
// run.mjs exports nothing (it runs its scenarios on import), so the few building blocks needed are copied here.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const DLL = process.env.HIBARI_SERVER_DLL ? path.resolve(process.env.HIBARI_SERVER_DLL) : path.join(REPO, 'src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll');
const NETNS_MARK = 'HIBARI_E2E_IN_NETNS';

const argv = process.argv.slice(2);
const opt = { out: null, netns: true, timeoutMs: 30000 };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--out') opt.out = argv[++i];
  else if (a === '--no-netns') opt.netns = false;
  else if (a === '--timeout-ms') opt.timeoutMs = Number(argv[++i]);
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (opt.out) opt.out = path.resolve(opt.out);

// Private network namespace with only lo up, as run.mjs does: Chromium then offers 127.0.0.1 only.
if (opt.netns && !process.env[NETNS_MARK]) {
  const flags = [['-n'], ['-r', '-n']].find(f => spawnSync('unshare', [...f, 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' }).status === 0);
  if (flags) {
    const args = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
    if (opt.out) args.push('--out', opt.out);
    const child = spawn('unshare', [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, process.argv[1], ...args],
      { stdio: 'inherit', env: { ...process.env, [NETNS_MARK]: '1' } });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
    await new Promise(() => {});
  } else {
    console.error('capture-sdp: no private network namespace available; running in the host network namespace');
  }
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
const log = (...a) => console.error('capture-sdp:', ...a);

async function until(what, fn, ms = opt.timeoutMs) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try { last = await fn(); if (last) return last; } catch (e) { last = String(e); }
    await sleep(200);
  }
  throw new Error(`timeout after ${ms} ms waiting for ${what} (${JSON.stringify(last)?.slice(0, 600)})`);
}

async function freePort(udp = false) {
  for (;;) {
    const port = await new Promise((res, rej) => {
      const s = net.createServer();
      s.once('error', rej);
      s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    });
    if (!udp) return port;
    const ok = await new Promise(res => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => { u.close(); res(false); });
      u.bind(port, '127.0.0.1', () => u.close(() => res(true)));
    });
    if (ok) return port;
  }
}

// ---------------------------------------------------------------------------------------------- node
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hibari-capture-'));
let nodeProc = null, browser = null;
function killNode() { if (nodeProc && nodeProc.exitCode === null) { try { process.kill(-nodeProc.pid, 'SIGTERM'); } catch { /* gone */ } } }
process.on('exit', () => { if (nodeProc && nodeProc.exitCode === null) { try { process.kill(-nodeProc.pid, 'SIGKILL'); } catch { /* gone */ } } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killNode(); process.exit(130); });

async function startNode() {
  if (!fs.existsSync(DLL)) throw new Error(`server not built: ${DLL} (dotnet build Hibari.slnx -c Release)`);
  const apiPort = await freePort(), signalingPort = await freePort(), rtcUdpPort = await freePort(true);
  fs.mkdirSync(path.join(tmp, 'data')); fs.mkdirSync(path.join(tmp, 'log'));
  const sets = { listen_address: '127.0.0.1', api_port: apiPort, signaling_port: signalingPort, rtc_udp_port: rtcUdpPort,
    data_dir: path.join(tmp, 'data'), log_dir: path.join(tmp, 'log'), session_destroy_delay_ms: 500 };
  const out = fs.openSync(path.join(tmp, 'stdout.log'), 'a');
  nodeProc = spawn('dotnet', [DLL, ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])],
    { cwd: tmp, stdio: ['ignore', out, out], detached: true, env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' } });
  fs.closeSync(out);
  await until('node API GetLicense → 200', async () => {
    if (nodeProc.exitCode !== null) throw new Error(`node exited: ${fs.readFileSync(path.join(tmp, 'stdout.log'), 'utf8').slice(-2000)}`);
    const r = await fetch(`http://127.0.0.1:${apiPort}/`, { method: 'POST', headers: { 'x-sora-target': 'Sora_20171218.GetLicense' }, body: '{}' }).catch(() => null);
    return r?.status === 200;
  });
  return { signalingPort };
}

// ---------------------------------------------------------------------------------------------- page server + relay
const { WebSocketServer, WebSocket } = await import('ws');
const records = {}; // client label → [{ dir, t, message }]
const t0 = Date.now();
const files = { '/page.html': ['page.html', 'text/html; charset=utf-8'], '/sora.js': ['node_modules/sora-js-sdk/dist/sora.js', 'text/javascript; charset=utf-8'] };
const httpServer = http.createServer((req, res) => {
  const f = files[new URL(req.url, 'http://x').pathname];
  if (!f) { res.writeHead(404).end(); return; }
  fs.readFile(path.join(HERE, f[0]), (err, buf) => err ? res.writeHead(500).end(String(err)) : res.writeHead(200, { 'content-type': f[1], 'cache-control': 'no-store' }).end(buf));
});
const wss = new WebSocketServer({ noServer: true });
httpServer.on('upgrade', (req, socket, head) => {
  const m = /^\/sig\/(\d+)\/(\w+)$/.exec(new URL(req.url, 'http://x').pathname);
  if (!m) { socket.destroy(); return; }
  wss.handleUpgrade(req, socket, head, client => relay(client, Number(m[1]), m[2]));
});
function relay(client, port, label) {
  const rec = records[label] ??= [];
  const note = (dir, data) => { let message; try { message = JSON.parse(data); } catch { message = { raw: data }; } rec.push({ dir, t: Date.now() - t0, message }); };
  const upstream = new WebSocket(`ws://127.0.0.1:${port}/signaling`);
  const pending = [];
  upstream.on('open', () => { for (const m of pending.splice(0)) upstream.send(m); });
  client.on('message', (d, bin) => { const m = bin ? d : d.toString(); if (!bin) note('c>s', m); upstream.readyState === 1 ? upstream.send(m) : pending.push(m); });
  upstream.on('message', (d, bin) => { const m = bin ? d : d.toString(); if (!bin) note('s>c', m); client.send(m); });
  const closeCode = c => (c === 1000 || (c >= 3000 && c <= 4999)) ? c : 1000;
  upstream.on('close', (code, reason) => { rec.push({ dir: 's>c', t: Date.now() - t0, close: code, reason: String(reason) }); client.close(closeCode(code), reason); });
  client.on('close', (code, reason) => { rec.push({ dir: 'c>s', t: Date.now() - t0, close: code, reason: String(reason) }); if (upstream.readyState <= 1) upstream.close(closeCode(code), reason); });
  upstream.on('error', () => client.terminate());
  client.on('error', () => upstream.terminate());
}
await new Promise(r => httpServer.listen(0, '127.0.0.1', r));
const HTTP = `http://127.0.0.1:${httpServer.address().port}`;

// ---------------------------------------------------------------------------------------------- browser + clients
const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

async function main() {
  const node = await startNode();
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: opt.timeoutMs });
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(opt.timeoutMs);
  await page.goto(`${HTTP}/page.html`);
  const sdkVersion = await until('sora-js-sdk in the page', () => page.evaluate(() => { if (window.harnessError) throw new Error(window.harnessError); return window.harness?.version; }));
  const url = label => `ws://127.0.0.1:${httpServer.address().port}/sig/${node.signalingPort}/${label}`;
  const start = async (label, channel, role, options = {}) => {
    const s = await page.evaluate(([n, o]) => window.harness.start(n, o), [label, { url: url(label), channel, role, options, timeoutMs: opt.timeoutMs }]);
    if (s.state !== 'connected') throw new Error(`${label} did not connect: ${JSON.stringify(s.error)}; ${s.signaling.join(', ')}`);
    log(`${label} (${role} ${JSON.stringify(options)}) connected as ${s.connectionId}`);
    return s;
  };
  const summary = label => page.evaluate(n => window.harness.summary(n), label);
  const count = (label, type) => (records[label] ?? []).filter(r => r.message?.type === type).length;
  const decodes = async (label, from) => { const s = await summary(label); return (s.inbound[from]?.framesDecoded ?? 0) > 0 && (s.inbound[from]?.audioPackets ?? 0) > 0; };

  const ch1 = `capture-${Date.now().toString(36)}`;
  const a = await start('A', ch1, 'sendrecv');
  const b = await start('B', ch1, 'sendrecv');
  await until('A re-answer after B joined', () => count('A', 're-answer') >= 1);
  await until('A and B to decode each other', async () => await decodes('A', b.connectionId) && await decodes('B', a.connectionId));
  await page.evaluate(n => window.harness.stop(n), 'B');
  await until('A re-answer after B left', () => count('A', 're-answer') >= 2);
  const r = await start('R', ch1, 'recvonly');
  await until('R to decode A', () => decodes('R', a.connectionId));
  // A recvonly joiner adds nothing for A to receive: Hibari sends A no re-offer (wait briefly in case one comes).
  await until('A re-answer after R joined', () => count('A', 're-answer') >= 3, 3000).catch(() => log('no re-offer to A for the recvonly joiner'));
  await start('H', `${ch1}-h264`, 'sendrecv', { videoCodecType: 'H264' });
  await start('V', `${ch1}-av1`, 'sendrecv', { videoCodecType: 'AV1' });
  await sleep(1000);
  for (const n of ['A', 'R', 'H', 'V']) await page.evaluate(n => window.harness.stop(n), n);
  await sleep(500);

  let commit = 'unknown', dirty = false;
  try { commit = execFileSync('git', ['-C', REPO, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim(); dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== ''; } catch { /* no git */ }
  return {
    meta: {
      capturedAt: new Date().toISOString(), browser: `${browser.version()} (${CHROMIUM})`,
      chromiumVersion: execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8' }).trim(), soraJsSdk: sdkVersion,
      hibariCommit: commit, hibariDirty: dirty, node: process.version, command: ['node', 'tests/e2e/capture-sdp.mjs', ...argv].join(' '),
      clients: { A: 'sendrecv default codec, channel 1', B: 'sendrecv default codec, channel 1 (joins after A, leaves)', R: 'recvonly, channel 1 (joins after B left)', H: 'sendrecv videoCodecType H264, own channel', V: 'sendrecv videoCodecType AV1, own channel' },
    },
    clients: records,
  };
}

let rc = 0;
try {
  const result = await Promise.race([main(), sleep(opt.timeoutMs * 8).then(() => { throw new Error('capture exceeded its deadline'); })]);
  const text = JSON.stringify(result, null, 2) + '\n';
  if (opt.out) { fs.writeFileSync(opt.out, text); log(`wrote ${opt.out}`); } else process.stdout.write(text);
} catch (e) {
  rc = 1;
  log(`FAILED: ${e?.stack ?? e}`);
  try { log(`node log tail:\n${fs.readFileSync(path.join(tmp, 'stdout.log'), 'utf8').split('\n').slice(-20).join('\n')}`); } catch { /* none */ }
}
if (browser) await Promise.race([browser.close().catch(() => {}), sleep(5000)]);
killNode();
await sleep(500);
fs.rmSync(tmp, { recursive: true, force: true });
httpServer.close();
process.exit(rc);
