#!/usr/bin/env node
// First decoded frame of a late-joining subscriber (issue 12): headless Debian Chromium + sora-js-sdk (the e2e
// harness's pieces, copied: tests/e2e/run.mjs) against a two-node cluster of Release servers, n1@127.0.0.1 and
// n2@127.0.0.2 (default_cluster_affinity=false, so nobody is redirected). A publisher (fake camera 1280x720 30 fps,
// VP8, sendonly, no audio) connects to n1 and publishes for WARM seconds; then JOINS times a new recvonly subscriber
// connects — to n1 (the publisher's node) or to n2 (one relay hop) — and the page times, from the moment its
// connect() resolved:
//   stats_ms  first getStats() with inbound-rtp framesDecoded > 0 (polled every 10 ms)
//   rvfc_ms   first requestVideoFrameCallback of a playing <video> of the track (the frame shown)
// and connect_ms (connect() called → resolved; sora-js-sdk resolves it once RTCPeerConnection.connectionState is
// 'connected', polled every 10 ms: ICE + DTLS done) and call_to_frame_ms (connect() called → stats_ms); with the
// first decoded frame also the receiver's pliCount and packetsReceived (getStats), and first_packet_ms (the first poll
// that saw packetsReceived > 0). Each subscriber leaves before the next joins (500 ms apart).
// Cases: single (no simulcast) and simulcast (simulcast: true, Sora's default r0/r1/r2; subscribers get r0) × n1, n2.
//
//   tests/e2e/install.sh                                   # once: chromium, node_modules of tests/e2e (and web/)
//   dotnet build src/Hibari.Server -c Release              # the servers run src/Hibari.Server/bin/Release/net10.0
//   node bench/first-frame.mjs                             # 10 joins per case, all four cases
//   node bench/first-frame.mjs --joins 5 --cases simulcast:n2 --log-level debug --keep-logs
//
// Prints one JSON line per join and one summary line per case (p50/p90/max). Runs in a private network namespace
// (`unshare -r -n`, only lo up) when it can, as the e2e runner does. Environment: CHROMIUM_PATH, HIBARI_SERVER_DLL.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const E2E = path.join(ROOT, 'tests/e2e');
const DLL = process.env.HIBARI_SERVER_DLL ?? path.join(ROOT, 'src/Hibari.Server/bin/Release/net10.0/Hibari.Server.dll');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
const NETNS_MARK = 'HIBARI_FIRST_FRAME_NETNS';

const argv = process.argv.slice(2);
const arg = (name, dflt) => { const i = argv.indexOf(`--${name}`); return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt; };
const opt = {
  joins: Number(arg('joins', '10')),
  warm: Number(arg('warm', '5')),
  cases: arg('cases', 'single:n1,simulcast:n1,single:n2,simulcast:n2').split(','),
  logLevel: arg('log-level', 'info'),
  keepLogs: argv.includes('--keep-logs'),
  netns: !argv.includes('--no-netns'),
  gap: Number(arg('gap-ms', '500')),
};

if (opt.netns && !process.env[NETNS_MARK]) {
  const flags = [['-n'], ['-r', '-n']].find(f => spawnSync('unshare', [...f, 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore' }).status === 0);
  if (flags) {
    const child = spawn('unshare', [...flags, 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)],
      { stdio: 'inherit', env: { ...process.env, [NETNS_MARK]: '1' } });
    for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
    await new Promise(() => {});
  }
  console.error('first-frame: no private network namespace; running in the host namespace');
}

const sleep = ms => new Promise(r => setTimeout(r, ms));
async function until(what, fn, ms = 30000, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => false);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}
async function freePort(host = '127.0.0.1') {
  return new Promise((res, rej) => { const s = net.createServer(); s.once('error', rej); s.listen(0, host, () => { const p = s.address().port; s.close(() => res(p)); }); });
}

// ------------------------------------------------------------------------------------------ nodes (as run.mjs startCluster)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hibari-first-frame-'));
const procs = [];
function killAll() { for (const p of procs) { try { process.kill(-p.pid, 'SIGTERM'); } catch { /* gone */ } } }
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

if (!fs.existsSync(DLL)) { console.error(`first-frame: ${DLL} is missing (dotnet build src/Hibari.Server -c Release)`); process.exit(2); }
const ports = { api: await freePort(), sig: await freePort(), rtc: await freePort() };
const nodes = [1, 2].map(i => {
  const ip = `127.0.0.${i}`, name = `n${i}@${ip}`, dir = path.join(tmp, `n${i}`);
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true }); fs.mkdirSync(path.join(dir, 'log'));
  const sets = {
    listen_address: ip, api_port: ports.api, signaling_port: ports.sig, rtc_udp_port: ports.rtc, data_dir: path.join(dir, 'data'),
    log_dir: path.join(dir, 'log'), log_level: opt.logLevel, session_destroy_delay_ms: 500, cluster: true, cluster_secret: 'first-frame-secret',
    node_name: name, external_signaling_url: `ws://${ip}:${ports.sig}/signaling`, external_api_url: `http://${ip}:${ports.api}/`,
    default_cluster_affinity: false,
  };
  const out = fs.openSync(path.join(dir, 'stdout.log'), 'a');
  const proc = spawn('dotnet', [DLL, ...Object.entries(sets).flatMap(([k, v]) => ['--set', `${k}=${v}`])],
    { cwd: dir, stdio: ['ignore', out, out], detached: true, env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1' } });
  procs.push(proc);
  return { ip, name, dir, pid: proc.pid, sig: `ws://${ip}:${ports.sig}/signaling`, api: `http://${ip}:${ports.api}/` };
});
const api = (n, target, body = {}) => fetch(n.api, { method: 'POST', headers: { 'x-sora-target': target, 'content-type': 'application/json' },
  body: JSON.stringify(body), signal: AbortSignal.timeout(10000) });
for (const n of nodes) await until(`${n.name} API`, async () => (await api(n, 'Sora_20171218.GetLicense')).status === 200, 30000, 200);
const init = await api(nodes[0], 'Sora_20221221.InitCluster', { node_name_list: nodes.map(n => n.name) });
if (init.status !== 200) throw new Error(`InitCluster → ${init.status} ${await init.text()}`);
for (const n of nodes) await until(`${n.name} hibari_available 1`, async () => /^hibari_available 1$/m.test(await (await fetch(`${n.api}metrics`)).text()), 30000, 200);

// ------------------------------------------------------------------------------------------ page + /sora.js
const PAGE = `<!doctype html><meta charset="utf-8"><title>first frame</title><body><script type="module">
const Sora = (await import('/sora.js')).default;
const conns = new Map();
async function publish(name, url, channel, simulcast) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: false, video: { width: 1280, height: 720, frameRate: 30 } });
  const conn = Sora.connection(url, false).sendonly(channel, null, { audio: false, videoCodecType: 'VP8', simulcast });
  await conn.connect(stream);
  conns.set(name, conn);
  return conn.connectionId;
}
async function sent(name) {
  const out = {};
  (await conns.get(name).pc.getStats()).forEach(s => { if (s.type === 'outbound-rtp') out[s.rid ?? 'video'] = { w: s.frameWidth ?? null, fps: s.framesPerSecond ?? null, kbps: null, frames: s.framesEncoded ?? 0 }; });
  return out;
}
async function join(name, url, channel, options) {
  const r = { name };
  const t0 = performance.now();
  const conn = Sora.connection(url, false).recvonly(channel, null, { audio: false, ...options });
  conns.set(name, conn);
  let resolvedAt = null;
  const firstFrame = new Promise(resolve => {
    conn.on('track', e => {
      if (e.track.kind !== 'video') return;
      r.track = performance.now();
      const v = document.createElement('video');
      v.muted = true; v.playsInline = true; v.autoplay = true; v.srcObject = new MediaStream([e.track]);
      document.body.appendChild(v);
      r.video = v;
      v.requestVideoFrameCallback((now, meta) => { r.rvfc = performance.now(); r.rvfcSize = meta.width + 'x' + meta.height; resolve(); });
      v.play().catch(() => {});
    });
  });
  await conn.connect();
  resolvedAt = performance.now();
  // getStats: first framesDecoded > 0 (10 ms polling, from connect() resolving on).
  const deadline = resolvedAt + 15000;
  while (performance.now() < deadline) {
    let decoded = 0, w = null, plis = 0, packets = 0;
    (await conn.pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'video') { decoded += s.framesDecoded ?? 0; w = s.frameWidth ?? w; plis += s.pliCount ?? 0; packets += s.packetsReceived ?? 0; } });
    if (packets > 0 && r.firstPacket === undefined) r.firstPacket = performance.now();
    if (decoded > 0 && r.stats === undefined) { r.stats = performance.now(); r.statsWidth = w; r.plis = plis; r.packets = packets; }
    if (r.stats !== undefined) break;
    await new Promise(res => setTimeout(res, 10));
  }
  await Promise.race([firstFrame, new Promise(res => setTimeout(res, Math.max(0, deadline - performance.now())))]);
  const ms = t => t === undefined || t === null ? null : Math.round(t - resolvedAt);
  const out = { connect_ms: Math.round(resolvedAt - t0), stats_ms: ms(r.stats), rvfc_ms: ms(r.rvfc), track_ms: ms(r.track),
    first_packet_ms: ms(r.firstPacket), receiver_plis: r.plis ?? null, packets_at_decode: r.packets ?? null,
    call_to_frame_ms: r.stats === undefined ? null : Math.round(r.stats - t0),
    width: r.statsWidth ?? null, rvfc_size: r.rvfcSize ?? null, connection_id: conn.connectionId };
  r.video?.remove();
  await conn.disconnect();
  conns.delete(name);
  return out;
}
async function stop(name) { await conns.get(name)?.disconnect(); conns.delete(name); }
window.bench = { publish, join, stop, sent, version: Sora.version() };
</script>`;
const require = createRequire(path.join(E2E, 'package.json'));
const SORA_JS = path.join(E2E, 'node_modules/sora-js-sdk/dist/sora.js');
if (!fs.existsSync(SORA_JS)) { console.error(`first-frame: ${SORA_JS} is missing (tests/e2e/install.sh)`); process.exit(2); }
const httpPort = await freePort();
const server = http.createServer((req, res) => {
  if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  else if (req.url === '/sora.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(fs.readFileSync(SORA_JS));
  else res.writeHead(404).end();
});
await new Promise(r => server.listen(httpPort, '127.0.0.1', r));

const { chromium } = require('playwright-core');
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'] });
// One page for the publisher, one for the subscribers (as two browsers' tabs would be).
async function page() {
  const p = await (await browser.newContext()).newPage();
  p.on('pageerror', e => console.error(`pageerror ${e.message}`));
  await p.goto(`http://127.0.0.1:${httpPort}/`);
  await until('sora.js in the page', () => p.evaluate(() => window.bench?.version), 20000, 100);
  return p;
}
const pubPage = await page(), subPage = await page();

const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil(s.length * p / 100) - 1)] : null; };
console.log(`# ${new Date().toISOString()} loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} nproc ${os.cpus().length} sora-js-sdk ${await pubPage.evaluate(() => window.bench.version)} chromium ${browser.version()} joins ${opt.joins}`);
const summaries = [];
let k = 0;
for (const c of opt.cases) {
  const [mode, where] = c.split(':');
  const simulcast = mode === 'simulcast';
  const sub = where === 'n2' ? nodes[1] : nodes[0];
  const channel = `ff-${mode}-${where}-${Date.now()}`;
  console.log(`# case ${c} ${new Date().toISOString()} loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  const pid = await pubPage.evaluate(([u, ch, s]) => window.bench.publish('P', u, ch, s), [nodes[0].sig, channel, simulcast]);
  await sleep(opt.warm * 1000);
  console.log(`# publisher ${pid} sends ${JSON.stringify(await pubPage.evaluate(() => window.bench.sent('P')))}`);
  const rows = [];
  for (let i = 0; i < opt.joins; i++) {
    const r = await subPage.evaluate(([n, u, ch]) => window.bench.join(n, u, ch, {}), [`S${k++}`, sub.sig, channel]);
    rows.push(r);
    console.log(JSON.stringify({ case: c, join: i + 1, ...r }));
    await sleep(opt.gap);
  }
  await pubPage.evaluate(() => window.bench.stop('P'));
  const col = key => rows.map(r => r[key]).filter(x => x !== null);
  const s = { case: c, joins: rows.length, decoded: col('stats_ms').length };
  for (const key of ['stats_ms', 'rvfc_ms', 'connect_ms', 'call_to_frame_ms']) s[key] = { p50: pct(col(key), 50), p90: pct(col(key), 90), max: col(key).length ? Math.max(...col(key)) : null };
  summaries.push(s);
  console.log(`# summary ${JSON.stringify(s)}`);
  await sleep(1000);
}
console.log(`# ${new Date().toISOString()} loadavg ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
await browser.close();
server.close();
killAll();
await sleep(1000);
if (opt.keepLogs) console.log(`# node logs kept in ${tmp} (n1/stdout.log, n2/stdout.log)`);
else fs.rmSync(tmp, { recursive: true, force: true });
process.exit(0);
