// The lobby kiosk page, /lobby/<screenId> (issue 9; handbook 第七节 二、大堂液晶显示屏管理规程).
// Plain ES module, no build step. The socket.io client comes from /socket.io/socket.io.js
// (served by the hub), which sets window.io.
//
// What it shows is exactly the hub's ScreenNow for this screen (gateway/display/types.ts):
// the hub decides what is approved and live; the page only rotates it, keeps time, and
// takes an entry down at its `until` by itself (第七节 二.6: expired information comes down).
//
// Signing in: the screen's display token arrives once in the URL fragment
// (/lobby/A-lobby#token=…), is kept in localStorage per screen and removed from the address
// bar, so a kiosk reload still signs in and the token never reaches a log or a Referer.
// POST /api/display/login exchanges it for a session token (bearer for fetch and the
// socket) and a session cookie. Sessions live in the hub's memory: after a hub restart the
// socket is refused with BOHUB_AUTH_REQUIRED and the page signs in again, with backoff.
//
// Images: <img src="/api/display/images/<sha>"> relies on the session cookie the login sets
// (same origin). An object URL from a bearer fetch would be a blob: URL, which the hub's
// CSP (default-src 'self') does not allow.
//
// Offline: while the hub cannot be reached the page keeps the last known content, with a
// small "offline since" mark, and reconnects by itself (socket.io's reconnection, then a new
// login with backoff). The last ScreenNow is also kept in localStorage, so a reload that gets
// the page but not the hub (the page from the browser's cache, or a hub still starting) shows
// the last content at once instead of a blank screen. Entries past their `until` are dropped
// even then.

/** @typedef {import('../../gateway/display/types.ts').ScreenNow} ScreenNow */
/** @typedef {import('../../gateway/display/types.ts').ScreenEntry} ScreenEntry */

const $ = (id) => document.getElementById(id);

const screenId = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const KEY = { token: `bohub.lobby.${screenId}.token`, now: `bohub.lobby.${screenId}.now` };
const RETRY_MAX_MS = 15_000;
const REFUSED_RETRY_MS = 60_000;
/** The weather signals as the fire-control room hoists them (第九节 二 typhoon, 三 rainstorm). */
const TYPHOON = (n) => ({ zh: `台风 ${n} 号风球`, en: `Typhoon signal No. ${n}` });
const RAINSTORM = {
  yellow: { zh: '暴雨黄色预警', en: 'Yellow rainstorm warning' },
  red: { zh: '暴雨红色预警', en: 'Red rainstorm warning' },
  black: { zh: '暴雨黑色预警', en: 'Black rainstorm warning' },
};

/** @type {ScreenNow | null} */
let now = null;
/** The hub's clock minus ours (ms): a kiosk's own clock may be off; expiry follows the hub. */
let skew = 0;
let timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
/** The session token from the last login; the socket's auth reads it on every (re)connect. */
let session = null;
let socket = null;
let offlineSince = null;
let failures = 0;
/** Handshakes the hub refused since the socket was last connected. */
let refusals = 0;
/** @type {Promise<void> | null} one sign-in at a time */
let signingIn = null;

let shownId = null;
let rotateTimer = null;
let expiryTimer = null;
let refreshTimer = null;

main();

function main() {
  takeTokenFromFragment();
  const cached = readCache();
  if (cached) {
    skew = cached.skew;
    show(cached.now, true);
  } else {
    render();
  }
  setInterval(tick, 1000);
  tick();
  void signIn();
}

// ---- signing in ----------------------------------------------------------

function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  if (!token) return;
  localStorage.setItem(KEY.token, token);
  history.replaceState(null, '', location.pathname + location.search);
}

/** Logs in with the display token until it works, then (re)connects the socket. Single-flight. */
function signIn() {
  signingIn ??= (async () => {
    for (;;) {
      const wait = await tryLogin().catch(() => backoff());
      if (wait === 0) break;
      await sleep(wait);
    }
    signingIn = null;
    connectSocket();
  })();
  return signingIn;
}

/** One login attempt: 0 when signed in, otherwise how long to wait before the next. */
async function tryLogin() {
  const token = localStorage.getItem(KEY.token);
  if (!token) {
    showNotice(`此屏幕没有显示令牌 · No display token: open /lobby/${screenId}#token=…`);
    return REFUSED_RETRY_MS;
  }
  let res;
  try {
    res = await fetch('/api/display/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ screen: screenId, token }),
    });
  } catch {
    markOffline();
    return backoff();
  }
  if (res.ok) {
    session = (await res.json()).token;
    showNotice(null);
    await refreshNow();
    return 0;
  }
  if (res.status === 401 || res.status === 403 || res.status === 404) {
    // A wrong or withdrawn token: say so in small print, keep the last content, try now and then.
    showNotice(`显示令牌被拒绝 · The display token was refused (${res.status})`);
    return REFUSED_RETRY_MS;
  }
  if (res.status === 429) return Math.max(1, Number(res.headers.get('retry-after')) || 60) * 1000;
  markOffline();
  return backoff();
}

/** 1 s, 2 s, 4 s … up to 15 s, with ±25 % jitter so a building's screens do not log in in step. */
function backoff() {
  const base = Math.min(RETRY_MAX_MS, 1000 * 2 ** Math.min(failures++, 10));
  return base * (0.75 + Math.random() / 2);
}

/** GET /now: what the screen shows, at sign-in and as a check after a scheduled change. */
async function refreshNow() {
  try {
    const res = await fetch(`/api/display/${encodeURIComponent(screenId)}/now`, { headers: { authorization: `Bearer ${session}` } });
    if (res.ok) show(await res.json());
  } catch {
    /* the socket's own events report the hub as offline */
  }
}

// ---- socket.io -----------------------------------------------------------

function connectSocket() {
  if (socket) return socket.connect();
  if (!window.io) return loadSocketClient();
  socket = window.io('/display', {
    // A function, so every reconnect sends the session of the latest login.
    auth: (cb) => cb({ token: session, screen: screenId }),
    transports: ['websocket', 'polling'],
    reconnectionDelay: 1000,
    reconnectionDelayMax: RETRY_MAX_MS,
  });
  socket.on('connect', () => {
    failures = 0;
    refusals = 0;
    markOnline();
  });
  socket.on('display.now', (/** @type {ScreenNow} */ n) => show(n));
  socket.on('disconnect', (reason) => {
    markOffline();
    // The hub dropped us (its restart, or the session ended): socket.io does not retry that by itself.
    if (reason === 'io server disconnect') void signIn();
  });
  socket.on('connect_error', () => {
    markOffline();
    // A transport error leaves the socket active, and socket.io's own reconnection (with
    // backoff) goes on. A refused handshake (err.data.code BOHUB_AUTH_REQUIRED: the session
    // went with a hub restart) does not: sign in again, at once the first time, then slower.
    if (socket.active) return;
    const wait = refusals++ === 0 ? 0 : Math.min(RETRY_MAX_MS, 1000 * 2 ** refusals);
    setTimeout(() => void signIn(), wait);
  });
}

/** The page loaded while the hub was away: the socket.io client script is missing. Try again later. */
function loadSocketClient() {
  const script = document.createElement('script');
  script.src = '/socket.io/socket.io.js';
  script.addEventListener('load', () => connectSocket());
  script.addEventListener('error', () => {
    script.remove();
    markOffline();
    setTimeout(() => void signIn(), backoff());
  });
  document.head.append(script);
}

function markOffline() {
  if (offlineSince !== null) return;
  offlineSince = Date.now();
  $('offline').textContent = `离线 offline since ${formatTime(offlineSince + skew, false)}`;
  $('offline').hidden = false;
}

function markOnline() {
  offlineSince = null;
  $('offline').hidden = true;
}

// ---- what the screen shows -------------------------------------------------

/**
 * @param {ScreenNow} n
 * @param {boolean} [fromCache] the copy kept from before a reload: its skew was stored with it
 */
function show(n, fromCache = false) {
  if (!n || n.screen !== screenId) return;
  const modeChanged = now?.mode !== n.mode;
  if (!fromCache) {
    skew = n.at - Date.now();
    writeCache(n);
  }
  const before = new Set(now?.entries.map((e) => e.id) ?? []);
  const current = now?.entries.find((e) => e.id === shownId);
  now = n;
  timeZone = n.timeZone || timeZone;
  // An emergency takes the screen at once, from its first entry: no waiting out the rotation.
  // So does anything new that outranks what is up (a fire notice over a rainstorm notice).
  const outranking = entries().find((e) => !before.has(e.id) && current && e.priority < current.priority);
  if (modeChanged) shownId = null;
  else if (outranking) shownId = outranking.id;
  render();
  scheduleRefresh();
  tick();
}

/** The entries to rotate now: in an emergency only the emergency ones, and none past its end. */
function entries() {
  if (!now) return [];
  const t = Date.now() + skew;
  return now.entries
    .filter((e) => now.mode !== 'emergency' || e.kind === 'emergency')
    .filter((e) => e.until === undefined || e.until > t)
    .sort((a, b) => a.priority - b.priority);
}

function render() {
  const mode = now?.mode ?? 'normal';
  document.body.dataset.mode = mode;
  $('emergency-banner').hidden = mode !== 'emergency';
  $('location-zh').textContent = now?.location.zh ?? '';
  $('location-en').textContent = now?.location.en ?? screenId;
  renderWeather(now?.weather);

  const list = entries();
  let i = list.findIndex((e) => e.id === shownId);
  if (i < 0) i = 0;
  showEntry(list[i], i, list.length);
  scheduleExpiry(list);
}

/** @param {ScreenEntry | undefined} entry */
function showEntry(entry, i, count) {
  const changed = (entry?.id ?? null) !== shownId;
  shownId = entry?.id ?? null;
  $('entry').hidden = !entry;
  $('idle').hidden = !!entry;
  $('pager').textContent = count > 1 ? `${i + 1} / ${count}` : '';
  if (!entry) {
    delete $('entry').dataset.entryId;
    clearTimeout(rotateTimer);
    rotateTimer = null;
    return;
  }
  $('entry').dataset.entryId = entry.id;
  $('entry').dataset.kind = entry.kind;
  $('title-zh').textContent = entry.title.zh;
  $('title-en').textContent = entry.title.en;
  $('body-zh').textContent = entry.body.zh;
  $('body-en').textContent = entry.body.en;
  showImage(entry.image);
  // A new push must not restart the clock of the entry already up, or a busy hub would freeze the rotation.
  if (changed || !rotateTimer) {
    clearTimeout(rotateTimer);
    rotateTimer = count > 1 ? setTimeout(rotateNext, (now?.rotateSeconds ?? 12) * 1000) : null;
  }
}

function rotateNext() {
  rotateTimer = null;
  const list = entries();
  const i = list.findIndex((e) => e.id === shownId);
  const next = (i + 1) % Math.max(1, list.length);
  showEntry(list[next], next, list.length);
}

function showImage(sha) {
  const img = $('image');
  if (!sha) {
    img.hidden = true;
    img.removeAttribute('src');
    return;
  }
  const src = sha.startsWith('/') ? sha : `/api/display/images/${encodeURIComponent(sha)}`;
  if (img.getAttribute('src') !== src) {
    img.hidden = false;
    img.onerror = () => (img.hidden = true);
    img.src = src;
  }
}

/** Takes an entry down at its `until` even if the hub's push is late or the hub is away. */
function scheduleExpiry(list) {
  clearTimeout(expiryTimer);
  const ends = list.map((e) => e.until).filter((u) => u !== undefined);
  if (!ends.length) return;
  const wait = Math.min(...ends) - skew - Date.now();
  expiryTimer = setTimeout(render, Math.max(0, Math.min(wait + 20, 2 ** 31 - 1)));
}

/** After the hub's next scheduled change, ask for /now in case its push went astray. */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!now?.nextChangeAt) return;
  const wait = now.nextChangeAt - skew - Date.now() + 1500;
  refreshTimer = setTimeout(() => socket?.connected && refreshNow(), Math.max(1000, Math.min(wait, 2 ** 31 - 1)));
}

/** The weather signals hoisted now (第九节 二, 三), in both languages; hidden when none is. */
function renderWeather(weather) {
  const box = $('weather');
  const chips = [];
  if (weather?.typhoon && weather.typhoon !== 'none') chips.push(chip('typhoon', TYPHOON(weather.typhoon)));
  if (weather?.rainstorm && weather.rainstorm !== 'none') {
    const text = RAINSTORM[weather.rainstorm] ?? { zh: `暴雨预警 ${weather.rainstorm}`, en: `Rainstorm warning ${weather.rainstorm}` };
    chips.push(chip(`rainstorm rain-${weather.rainstorm}`, text));
  }
  box.replaceChildren(...chips);
  box.hidden = !chips.length;
}

function chip(className, text) {
  const node = document.createElement('span');
  node.className = `signal ${className}`;
  const zh = document.createElement('span');
  zh.className = 'zh';
  zh.textContent = text.zh;
  const en = document.createElement('span');
  en.className = 'en';
  en.textContent = text.en;
  node.append(zh, en);
  return node;
}

function showNotice(message) {
  $('notice').hidden = !message;
  $('notice').textContent = message ?? '';
}

// ---- clock and storage -------------------------------------------------------

function tick() {
  $('clock').textContent = formatTime(Date.now() + skew, true);
}

/** The building's time (the hub's time zone), whatever the kiosk's own zone is. */
function formatTime(ms, withDate) {
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
  if (!withDate) return time;
  const date = new Intl.DateTimeFormat('zh-CN', { timeZone, month: 'long', day: 'numeric', weekday: 'short' }).format(ms);
  return `${date} ${time}`;
}

function readCache() {
  try {
    const cached = JSON.parse(localStorage.getItem(KEY.now) ?? 'null');
    return cached?.now?.screen === screenId ? cached : null;
  } catch {
    return null;
  }
}

function writeCache(n) {
  try {
    localStorage.setItem(KEY.now, JSON.stringify({ now: n, skew }));
  } catch {
    /* storage full or disabled: the page still works, only a reload while offline is blank */
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
