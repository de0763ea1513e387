// Hibari demo page: one sora-js-sdk `sendrecv` connection per Join; everyone else's streams in a grid.
// Served by the node at http://HOST:signaling_port/ ; /sora.js is sora-js-sdk's dist/sora.js (an ES module).
//
// URL parameters: ?channel=NAME fills the channel and joins at once;
//                 ?video=WxH[@FPS] sets the camera constraints (default 640x480@30).
const $ = id => document.getElementById(id);
const ui = {
  form: $('join-form'), channel: $('channel'), join: $('join'), leave: $('leave'),
  state: $('state'), count: $('count'), selfId: $('self-id'), error: $('error'),
  self: $('self'), remote: $('remote'), empty: $('empty'), url: $('signaling-url'), sdk: $('sdk-version'),
};

const signalingUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signaling`;
ui.url.textContent = signalingUrl;
const params = new URLSearchParams(location.search);
const CONNECT_TIMEOUT_MS = 30000; // sora-js-sdk's own connectionTimeout never fires (docs/protocol-notes.md, "Redirect, URL lists and the connect timeout bug")

let Sora;
let conn = null;
let localStream = null;
const tiles = new Map(); // msid stream id (= the publisher's connection id) → { fig, video, stream }

function setState(state, text = state) {
  document.body.dataset.state = state;
  ui.state.textContent = text;
  const busy = state === 'connecting' || state === 'connected';
  ui.join.disabled = busy || !Sora;
  ui.channel.disabled = busy;
  ui.leave.disabled = !busy;
}

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function describe(e) {
  // ConnectError carries the WebSocket close code and reason (docs/protocol-notes.md, "Errors and close codes").
  if (e && e.code !== undefined) return `${e.message} (close code ${e.code}${e.reason ? `, reason ${e.reason}` : ''})`;
  return String(e?.message ?? e);
}

function updateEmpty() {
  ui.empty.hidden = tiles.size > 0;
}

function addTile(stream) {
  let tile = tiles.get(stream.id);
  if (tile) return tile;
  const fig = document.createElement('figure');
  fig.className = 'tile';
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.dataset.connectionId = stream.id;
  video.srcObject = stream;
  const cap = document.createElement('figcaption');
  cap.textContent = stream.id;
  fig.append(video, cap);
  ui.remote.append(fig);
  tile = { fig, video, stream };
  tiles.set(stream.id, tile);
  // Autoplay with sound may be refused without a user gesture (e.g. after ?channel= auto-join): play muted and
  // offer an Unmute button then.
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Unmute';
    b.addEventListener('click', () => { video.muted = false; video.play().catch(() => {}); b.remove(); });
    cap.append(' ', b);
  });
  updateEmpty();
  return tile;
}

function removeTile(id) {
  const tile = tiles.get(id);
  if (!tile) return;
  tile.video.srcObject = null;
  tile.fig.remove();
  tiles.delete(id);
  updateEmpty();
}

function clearAll() {
  for (const id of [...tiles.keys()]) removeTile(id);
  localStream?.getTracks().forEach(t => t.stop());
  localStream = null;
  ui.self.srcObject = null;
  ui.count.textContent = '–';
  ui.selfId.textContent = '–';
  delete document.body.dataset.connectionId;
}

function videoConstraints() {
  const m = /^(\d+)x(\d+)(?:@(\d+))?$/.exec(params.get('video') ?? '');
  return m ? { width: +m[1], height: +m[2], frameRate: +(m[3] ?? 30) } : { width: 640, height: 480, frameRate: 30 };
}

async function join(channel) {
  showError('');
  // Browsers offer the camera only to secure contexts (https://, or http://localhost / 127.0.0.1). Elsewhere the
  // page still joins, receive-only, so that one sees the others.
  const canSend = !!navigator.mediaDevices?.getUserMedia;
  let role = 'sendrecv';
  if (canSend) {
    setState('connecting', 'getting camera…');
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: videoConstraints() });
    } catch (e) {
      setState('error', 'no camera');
      showError(`Camera/microphone: ${describe(e)}`);
      return;
    }
    ui.self.srcObject = localStream;
  } else {
    role = 'recvonly';
    showError('This page is not a secure context (https or localhost), so the browser offers no camera: joining receive-only.');
  }
  setState('connecting', 'connecting…');

  const c = Sora.connection(signalingUrl, false)[role](channel, null, {});
  conn = c;
  c.on('track', e => {
    const stream = e.streams[0];
    if (!stream) return;
    addTile(stream);
    stream.addEventListener('removetrack', () => { if (stream.getTracks().length === 0) removeTile(stream.id); });
  });
  c.on('removetrack', e => {
    const stream = e.target;
    if (stream && stream.getTracks().length === 0) removeTile(stream.id);
  });
  c.on('notify', m => {
    if (typeof m.channel_connections === 'number') ui.count.textContent = String(m.channel_connections);
    if (m.event_type === 'connection.destroyed' && m.connection_id) removeTile(m.connection_id);
  });
  c.on('disconnect', e => {
    if (conn !== c) return;
    conn = null;
    clearAll();
    if (e?.type === 'abend') {
      setState('error', 'disconnected (error)');
      showError(`Disconnected: ${e.title ?? 'error'}${e.code !== undefined ? ` (close code ${e.code}${e.reason ? `, reason ${e.reason}` : ''})` : ''}`);
    } else {
      setState('idle', 'disconnected');
    }
  });

  let timer;
  try {
    await Promise.race([
      c.connect(localStream),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer from ${signalingUrl} within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS); }),
    ]);
  } catch (e) {
    if (conn === c) {
      conn = null;
      await c.disconnect().catch(() => {});
      clearAll();
      setState('error', 'failed');
      showError(`Could not join ${channel}: ${describe(e)}`);
    }
    return;
  } finally {
    clearTimeout(timer);
  }
  if (conn !== c) return;
  ui.selfId.textContent = c.connectionId;
  document.body.dataset.connectionId = c.connectionId;
  setState('connected', `connected to ${channel}${role === 'recvonly' ? ' (receive-only)' : ''}`);
}

async function leave() {
  const c = conn;
  conn = null;
  clearAll();
  setState('idle', 'left');
  if (c) await c.disconnect().catch(() => {});
}

ui.form.addEventListener('submit', e => {
  e.preventDefault();
  const channel = ui.channel.value.trim();
  if (!channel || conn) return;
  const u = new URL(location.href);
  u.searchParams.set('channel', channel);
  history.replaceState(null, '', u);
  join(channel);
});
ui.leave.addEventListener('click', () => { leave(); });
window.addEventListener('pagehide', () => { conn?.disconnect().catch(() => {}); });

try {
  Sora = (await import('/sora.js')).default;
  ui.sdk.textContent = `sora-js-sdk ${Sora.version()}`;
} catch (e) {
  ui.sdk.textContent = 'sora-js-sdk failed to load';
  setState('error', 'error');
  showError(`Could not load /sora.js: ${describe(e)}`);
}
if (Sora) {
  setState('idle');
  const channel = params.get('channel');
  if (channel) {
    ui.channel.value = channel;
    join(channel);
  }
}
updateEmpty();
