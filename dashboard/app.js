// The control-room live view: plain ES module, no build step. The socket.io client
// comes from /socket.io/socket.io.js (served by the hub), which sets window.io.
//
// Event shapes are gateway/http/live-types.ts:
/** @typedef {import('../gateway/http/live-types.ts').MeterValuesFrame} MeterValuesFrame */
/** @typedef {import('../gateway/events.ts').PointValue} PointValue */
/** @typedef {import('../gateway/events.ts').DeviceStatus} DeviceStatus */

const $ = (id) => document.getElementById(id);

/** value cells by "DEVICE/POINT", and the sourceTime each one shows */
const cells = new Map();
const shownTime = new Map();
let timeZone = 'UTC';
let socket = null;
let clockTimer = null;

const DIGITS = { electricity: 2, water: 3 };

main();

async function main() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', onLogout);
  // A wall screen reloads often: the session cookie may still be good.
  const me = await api('/api/auth/me');
  if (me.ok) await showLive(await me.json());
  else showLogin();
}

// ---- login / logout ------------------------------------------------------

function showLogin(message) {
  stopLive();
  $('live-view').hidden = true;
  $('login-view').hidden = false;
  $('login-error').hidden = !message;
  $('login-error').textContent = message ?? '';
  $('password').value = '';
}

async function onLogin(event) {
  event.preventDefault();
  $('login-button').disabled = true;
  try {
    const res = await api('/api/auth/login', { method: 'POST', body: { username: $('username').value.trim(), password: $('password').value } });
    if (res.ok) return await showLive(await res.json());
    if (res.status === 429) return showLogin(`登录失败次数过多，请 ${res.headers.get('retry-after') ?? 60} 秒后再试 · Too many failed logins; try again later.`);
    showLogin(res.status === 401 ? '用户名或密码错误 · Wrong username or password.' : `登录失败 · Login failed (${res.status}).`);
  } catch {
    showLogin('无法连接服务器 · Cannot reach the hub.');
  } finally {
    $('login-button').disabled = false;
  }
}

async function onLogout() {
  await api('/api/auth/logout', { method: 'POST' }).catch(() => undefined);
  showLogin();
}

// ---- live view -----------------------------------------------------------

async function showLive(me) {
  const res = await api('/api/site');
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    return showLogin(res.status === 403 ? '此账号无权查看 · This account may not view the control room.' : body.error?.message);
  }
  const site = await res.json();
  timeZone = site.site.timezone;
  $('site-name-zh').textContent = site.site.name.zh;
  $('site-name-en').textContent = site.site.name.en;
  $('user').textContent = `${me.user.displayName} (${me.user.role})`;
  renderTowers(site.towers);
  $('login-view').hidden = true;
  $('live-view').hidden = false;
  startClock();
  await loadSnapshot();
  connectLive();
}

function stopLive() {
  socket?.close();
  socket = null;
  clearInterval(clockTimer);
}

function renderTowers(towers) {
  cells.clear();
  shownTime.clear();
  const root = $('towers');
  root.replaceChildren();
  for (const tower of towers) {
    const section = el('section', { class: 'tower' });
    const title = el('h2', {}, tower.name.zh);
    title.append(el('small', {}, tower.name.en));
    const floors = el('div', { class: 'floors' });
    // Highest floor first, as a building is drawn.
    for (const floor of [...tower.floors].sort((a, b) => b.level - a.level)) {
      if (floor.units.length) floors.append(renderFloor(tower, floor));
    }
    section.append(title, floors);
    root.append(section);
  }
}

function renderFloor(tower, floor) {
  const table = el('table', { class: 'floor' });
  const label = floor.level < 0 ? `B${-floor.level}` : `${floor.level}F`;
  table.append(el('caption', {}, `${tower.id} · ${label}`));
  const head = el('tr');
  head.append(el('th', {}, '单元 Unit'), el('th', {}, '业户 Tenant'), el('th', { class: 'num' }, '电 kWh'), el('th', { class: 'num' }, '水 m³'));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const unit of floor.units) {
    const row = el('tr');
    const tenant = el('td', { class: unit.tenant ? 'tenant' : 'tenant vacant' }, unit.tenant?.company ?? '空置 vacant');
    tenant.title = tenant.textContent;
    row.append(el('td', {}, unit.id), tenant, valueCell(unit, 'electricity'), valueCell(unit, 'water'));
    body.append(row);
  }
  table.append(body);
  return table;
}

function valueCell(unit, kind) {
  const meter = unit.meters.find((m) => m.kind === kind);
  if (!meter) return el('td', { class: 'value q-none' }, '');
  const key = `${meter.id}/${meter.point}`;
  const td = el('td', { class: 'value q-none', 'data-point': key, 'data-kind': kind }, '—');
  cells.set(key, td);
  return td;
}

/** @param {PointValue} v */
function showValue(v) {
  const key = `${v.device}/${v.point}`;
  const td = cells.get(key);
  if (!td) return;
  // The snapshot may arrive after a newer live frame; never step back in time.
  if ((shownTime.get(key) ?? -Infinity) > v.sourceTime) return;
  shownTime.set(key, v.sourceTime);
  const digits = DIGITS[td.dataset.kind] ?? 2;
  td.textContent = v.value === null ? '—' : v.value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  td.className = `value q-${v.value === null ? 'bad' : v.quality}`;
  td.dataset.quality = v.quality;
  td.title = `${v.quality} · ${formatTime(v.sourceTime)}`;
}

/** @param {DeviceStatus} s */
function showDeviceStatus(s) {
  for (const [key, td] of cells) if (key.startsWith(`${s.device}/`)) td.classList.toggle('offline', s.status === 'offline');
}

async function loadSnapshot() {
  const res = await api('/api/live/snapshot');
  if (res.status === 401) return showLogin('会话已过期 · Session expired; please log in again.');
  if (!res.ok) return;
  const snapshot = await res.json();
  for (const v of snapshot.values) showValue(v);
  for (const s of snapshot.devices) showDeviceStatus(s);
}

// ---- socket.io -----------------------------------------------------------

function connectLive() {
  // Same origin: the session cookie goes with the handshake.
  socket = window.io({ transports: ['websocket', 'polling'] });
  let offlineSince = null;
  const markOffline = () => {
    if (offlineSince !== null) return;
    offlineSince = Date.now();
    $('banner').textContent = `离线 · offline since ${formatTime(offlineSince)}`;
    $('banner').hidden = false;
  };
  socket.on('connect', async () => {
    $('banner').hidden = true;
    if (offlineSince !== null) {
      offlineSince = null;
      // Values sent while we were away are lost; the snapshot has the present.
      await loadSnapshot();
    }
  });
  socket.on('disconnect', (reason) => {
    markOffline();
    // The server dropped us (logout elsewhere, expiry, restart): socket.io does not
    // retry that on its own. Retrying shows the login form if the session is gone.
    if (reason === 'io server disconnect') setTimeout(() => socket?.connect(), 1000);
  });
  socket.on('connect_error', (err) => {
    if (err?.data?.code === 'BOHUB_AUTH_REQUIRED') return showLogin('会话已过期 · Session expired; please log in again.');
    markOffline();
  });
  socket.on('meter.values', (/** @type {MeterValuesFrame} */ frame) => frame.values.forEach(showValue));
  socket.on('device.status', showDeviceStatus);
}

// ---- helpers -------------------------------------------------------------

function startClock() {
  clearInterval(clockTimer);
  const tick = () => ($('clock').textContent = formatTime(Date.now()));
  tick();
  clockTimer = setInterval(tick, 1000);
}

/** HH:MM:SS in the site's time zone, whatever the screen's own zone is. */
function formatTime(ms) {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(ms);
}

function api(url, { method = 'GET', body } = {}) {
  return fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
}

function el(tag, attrs = {}, content) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (content instanceof Node) node.append(content);
  else if (content !== undefined) node.textContent = content;
  return node;
}
