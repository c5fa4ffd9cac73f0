// @ts-check
// The live page (src/ui/). No framework and no build: the page is one file of plain DOM code.
// Names come from users: every text goes in with textContent, never as HTML, and the page's
// Content-Security-Policy allows no inline script and no other origin.

/** Figures kept per sparkline: three minutes at one a second. */
const HISTORY = 180
/** Entries kept in the feed. */
const FEED_MAX = 200
const COLLECTIONS = ['inputs', 'outputs', 'transcoders', 'metadata']
const END_MESSAGES = {
  logout: 'You are logged out.',
  timeout: 'Your session timed out. Log in again.',
  reboot: 'The device is rebooting: every session ended. Log in again once it is back.',
  reset: 'The emulator was reset: every session ended. Log in again.',
  account: 'Your account was changed: log in again.',
  expired: 'The device ended every session. Log in again.',
  shutdown: 'The emulator stopped.'
}

/** @param {string} id */
function el (id) {
  const node = document.getElementById(id)
  if (node === null) throw new Error(`#${id} is missing from the page`)
  return node
}

/** @type {EventSource | undefined} */
let source
/** @type {{ username: string, role: string } | undefined} */
let viewer
let control = { token_required: true, clock: /** @type {string | null} */ (null) }
/** uuid -> name, for the diagrams */
const names = new Map()
/** @type {Map<string, { card: HTMLElement, stream: any, bitrate: number[], fps: number[], thumb: { failed: boolean, busy: boolean, url?: string } }>} */
const cards = new Map()
const deviceHistory = { cpu: /** @type {number[]} */ ([]), memory: /** @type {number[]} */ ([]) }

// ---- start-up -------------------------------------------------------------------------------

function start () {
  const large = localStorage.getItem('kraken-large-type') === '1'
  setLargeType(large)
  el('large-type').addEventListener('click', () => setLargeType(el('large-type').getAttribute('aria-pressed') !== 'true'))
  el('login').addEventListener('submit', event => { event.preventDefault(); void logIn() })
  el('logout').addEventListener('click', () => { void logOut() })
  el('control-token-form').addEventListener('submit', event => { event.preventDefault(); void useToken() })
  for (const button of document.querySelectorAll('[data-device-event]')) {
    button.addEventListener('click', () => {
      const type = button.getAttribute('data-device-event') ?? ''
      void deviceEvent(type.startsWith('nic') ? { type, nic: 'eth0' } : { type })
    })
  }
  for (const button of document.querySelectorAll('[data-advance]')) {
    button.addEventListener('click', () => { void controlCall('/_emulator/clock', { advance_ms: Number(button.getAttribute('data-advance')) }) })
  }
  void checkSession()
}

/** @param {boolean} on */
function setLargeType (on) {
  document.documentElement.classList.toggle('large', on)
  el('large-type').setAttribute('aria-pressed', String(on))
  localStorage.setItem('kraken-large-type', on ? '1' : '0')
}

/** @param {string} text */
function notice (text) {
  const node = el('notice')
  node.textContent = text
  node.hidden = text === ''
}

async function checkSession () {
  const res = await fetch('/apis/v2/session', { credentials: 'same-origin' })
  if (res.ok) goLive()
  else showLogin('')
}

// ---- login and logout ---------------------------------------------------------------------------

/** @param {string} message */
function showLogin (message) {
  source?.close()
  source = undefined
  viewer = undefined
  el('live-view').hidden = true
  el('logout').hidden = true
  el('login-view').hidden = false
  notice(message)
  el('username').focus()
}

async function logIn () {
  const form = /** @type {HTMLFormElement} */ (el('login'))
  const data = new FormData(form)
  const error = el('login-error')
  error.hidden = true
  const res = await fetch(form.action, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: data.get('username'), password: data.get('password') })
  })
  if (res.status === 204) {
    /** @type {HTMLInputElement} */ (el('password')).value = ''
    notice('')
    goLive()
    return
  }
  error.textContent = res.status === 401 ? 'The account or the password is wrong.' : await errorText(res)
  error.hidden = false
}

async function logOut () {
  await fetch('/apis/v2/logout', { method: 'POST', credentials: 'same-origin' })
  showLogin(END_MESSAGES.logout)
}

/** @param {Response} res */
async function errorText (res) {
  try {
    const body = await res.json()
    return `${res.status}: ${body?.error?.message ?? res.statusText}`
  } catch {
    return `${res.status} ${res.statusText}`
  }
}

// ---- the event stream ---------------------------------------------------------------------------

function goLive () {
  el('login-view').hidden = true
  el('live-view').hidden = false
  el('logout').hidden = false
  source?.close()
  const events = new EventSource('/ui/events')
  source = events
  /** @param {string} name @param {(data: any) => void} handle */
  const on = (name, handle) => events.addEventListener(name, event => handle(JSON.parse(/** @type {MessageEvent} */ (event).data)))
  on('state', renderState)
  on('stats', renderStats)
  on('transition', renderTransition)
  on('created', changed)
  on('changed', changed)
  on('deleted', deleted)
  on('journal', batch => { for (const entry of batch.entries) addFeed(entry, true) })
  on('scenario', renderScenario)
  on('end', data => showLogin(END_MESSAGES[/** @type {keyof END_MESSAGES} */ (data.reason)] ?? `The session ended (${String(data.reason)}).`))
  events.addEventListener('error', () => {
    // Closed for good (a 401 on reconnecting): the session is gone. Otherwise EventSource retries
    // by itself and the server sends the whole state again.
    if (events.readyState === EventSource.CLOSED && source === events) void checkSession()
  })
}

/** @param {any} state */
function renderState (state) {
  viewer = state.viewer
  control = state.control
  const device = state.device
  el('d-hostname').textContent = device.hostname
  el('title-host').textContent = device.hostname
  el('d-model').textContent = device.model
  el('d-version').textContent = device.version
  el('d-viewer').textContent = `${state.viewer.username} (${state.viewer.role})`
  names.clear()
  for (const collection of COLLECTIONS) for (const item of state.objects[collection]) names.set(item.uuid, item.name)
  cards.clear()
  el('streams').replaceChildren()
  for (const stream of state.objects.streams) addCard(stream)
  el('feed').replaceChildren()
  for (const entry of state.journal) addFeed(entry, true)
  renderControl()
  renderScenario(state.scenario)
  renderStats(state.stats)
}

function renderControl () {
  const token = sessionStorage.getItem('kraken-control-token')
  const ready = !control.token_required || token !== null
  el('control').hidden = false
  el('control-token-form').hidden = ready
  el('control-buttons').hidden = !ready
  el('clock-buttons').hidden = !ready
  for (const entry of cards.values()) renderActions(entry)
}

/** @param {any} stats */
function renderStats (stats) {
  const d = stats.device
  el('d-uptime').textContent = duration(d.uptime)
  el('d-transcoders').textContent = `${d.licence.transcoder} of ${d.licence.max_encoders}${d.licence.valid ? '' : ' (licence not valid)'}`
  el('d-bypass').textContent = String(d.licence.bypass)
  el('d-cpu').textContent = `${d.cpu.toFixed(1)} %`
  el('d-memory').textContent = `${d.memory.toFixed(1)} %`
  push(deviceHistory.cpu, d.cpu)
  push(deviceHistory.memory, d.memory)
  spark(el('d-cpu-chart'), deviceHistory.cpu, 100)
  spark(el('d-memory-chart'), deviceHistory.memory, 100)
  for (const [uuid, entry] of cards) {
    const figures = stats.streams[uuid]
    push(entry.bitrate, figures?.bitrate ?? 0)
    push(entry.fps, figures?.fps ?? 0)
    text(entry.card, '.s-bitrate', figures === undefined ? '–' : `${(figures.bitrate / 1e6).toFixed(2)} Mb/s`)
    text(entry.card, '.s-fps', figures === undefined ? '–' : `${figures.fps.toFixed(2)} fps`)
    spark(entry.card.querySelector('.s-bitrate-chart'), entry.bitrate)
    spark(entry.card.querySelector('.s-fps-chart'), entry.fps)
    if (figures !== undefined) void refreshThumbnail(uuid, entry)
  }
}

/** @param {{ uuid: string, status: string, sub_status: string }} change */
function renderTransition (change) {
  const entry = cards.get(change.uuid)
  if (entry === undefined) return
  entry.stream.status = change.status
  entry.stream.sub_status = change.sub_status
  if (change.status === 'running') entry.thumb.failed = false
  renderStatus(entry)
}

/** @param {{ collection: string, item: any }} change */
function changed (change) {
  if (change.collection !== 'streams') {
    names.set(change.item.uuid, change.item.name)
    for (const entry of cards.values()) renderDiagram(entry)
    return
  }
  const entry = cards.get(change.item.uuid)
  if (entry === undefined) {
    addCard(change.item)
    return
  }
  entry.stream = change.item
  fillCard(entry)
}

/** @param {{ collection: string, uuid: string }} change */
function deleted (change) {
  if (change.collection !== 'streams') {
    names.delete(change.uuid)
    return
  }
  cards.get(change.uuid)?.card.remove()
  cards.delete(change.uuid)
}

/** A scenario's progress (null: none played since the last reset). @param {any} progress */
function renderScenario (progress) {
  const panel = el('scenario')
  panel.hidden = progress === null || progress === undefined
  if (panel.hidden) return
  el('scenario-name').textContent = progress.name
  el('scenario-step').textContent = `step ${progress.step} of ${progress.steps}`
  const bar = /** @type {HTMLProgressElement} */ (el('scenario-progress'))
  bar.value = progress.durationMs > 0 ? Math.min(1, progress.elapsedMs / progress.durationMs) : 0
  el('scenario-state').textContent = progress.last === undefined ? progress.state : `${progress.state}: ${progress.last}`
}

// ---- stream cards -------------------------------------------------------------------------------

/** @param {any} stream */
function addCard (stream) {
  const template = /** @type {HTMLTemplateElement} */ (el('stream-card'))
  const fragment = /** @type {DocumentFragment} */ (template.content.cloneNode(true))
  const card = /** @type {HTMLElement} */ (fragment.firstElementChild)
  const entry = { card, stream, bitrate: [], fps: [], thumb: { failed: false, busy: false } }
  cards.set(stream.uuid, entry)
  el('streams').append(card)
  fillCard(entry)
}

/** @param {{ card: HTMLElement, stream: any }} entry */
function fillCard (entry) {
  const { card, stream } = entry
  card.dataset.uuid = stream.uuid
  card.setAttribute('aria-label', `Stream ${stream.name}`)
  text(card, '.s-name', stream.name)
  text(card, '.s-mode', stream.mode)
  renderDiagram(entry)
  renderStatus(entry)
  renderActions(entry)
}

/** @param {{ card: HTMLElement, stream: any }} entry */
function renderDiagram ({ card, stream }) {
  const name = (/** @type {string | null} */ uuid) => uuid === null ? '' : names.get(uuid) ?? uuid
  text(card, '.s-input', `input ${name(stream.input)}`)
  const transcoder = card.querySelector('.s-transcoder')
  if (transcoder instanceof HTMLElement) {
    transcoder.hidden = stream.transcoder === null
    transcoder.textContent = stream.mode === 'passthru' ? `${name(stream.transcoder)} + passthru` : name(stream.transcoder)
  }
  const outputs = [...stream.outputs, ...(stream.passthru === null ? [] : [stream.passthru])].map(name)
  text(card, '.s-outputs', `${outputs.length === 1 ? 'output' : 'outputs'} ${outputs.join(', ')}`)
}

/** @param {{ card: HTMLElement, stream: any }} entry */
function renderStatus ({ card, stream }) {
  card.dataset.status = stream.status
  const badge = card.querySelector('.s-status')
  if (badge !== null) {
    badge.textContent = stream.status
    badge.className = `s-status badge ${stream.status}`
  }
  text(card, '.s-sub', stream.status === 'error' ? stream.sub_status : '')
  const image = card.querySelector('.thumb')
  if (image instanceof HTMLImageElement && stream.status !== 'running') image.hidden = true
}

/** Start/stop for Administrators and Operators; device events when the control routes are open to the page. @param {{ card: HTMLElement, stream: any }} entry */
function renderActions ({ card, stream }) {
  const actions = card.querySelector('.actions')
  if (actions === null) return
  const buttons = []
  if (viewer !== undefined && (viewer.role === 'Administrator' || viewer.role === 'Operator')) {
    buttons.push(button('Start', `Start ${stream.name}`, () => streamAction(stream.uuid, 'start')))
    buttons.push(button('Stop', `Stop ${stream.name}`, () => streamAction(stream.uuid, 'stop')))
  }
  if (!el('control-buttons').hidden) {
    buttons.push(button('Input lost', `Input lost on ${stream.name}`, () => deviceEvent({ type: 'input-lost', stream: stream.uuid }), true))
    if (stream.mode !== 'iorouter') buttons.push(button('Encoder failure', `Encoder failure on ${stream.name}`, () => deviceEvent({ type: 'encoder-failure', stream: stream.uuid }), true))
  }
  actions.replaceChildren(...buttons)
}

/** @param {string} label @param {string} accessible @param {() => Promise<void>} action @param {boolean} [danger] */
function button (label, accessible, action, danger = false) {
  const node = document.createElement('button')
  node.type = 'button'
  node.textContent = label
  node.setAttribute('aria-label', accessible)
  if (danger) node.className = 'danger'
  node.addEventListener('click', () => { void action() })
  return node
}

/** Through the public API, as any client: the request shows in the feed. @param {string} uuid @param {'start' | 'stop'} action */
async function streamAction (uuid, action) {
  const res = await fetch(`/apis/v2/streams/stream-${encodeURIComponent(uuid)}/${action}`, { method: 'PUT', credentials: 'same-origin' })
  if (!res.ok) notice(await errorText(res))
}

/** @param {Record<string, unknown>} body */
async function deviceEvent (body) {
  await controlCall('/_emulator/device/events', body)
}

/** @param {string} path @param {Record<string, unknown>} body */
async function controlCall (path, body) {
  /** @type {Record<string, string>} */
  const headers = { 'content-type': 'application/json' }
  const token = sessionStorage.getItem('kraken-control-token')
  if (token !== null) headers['x-kraken-control-token'] = token
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify(body) })
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem('kraken-control-token')
    renderControl()
  }
  if (!res.ok) notice(await errorText(res))
}

async function useToken () {
  const input = /** @type {HTMLInputElement} */ (el('control-token'))
  const res = await fetch('/_emulator/clock', { headers: { 'x-kraken-control-token': input.value } })
  if (!res.ok) {
    notice(`The control token was refused (${res.status}).`)
    return
  }
  sessionStorage.setItem('kraken-control-token', input.value)
  input.value = ''
  notice('')
  renderControl()
}

/**
 * The stream's picture, at most once a second while it runs. Fetched (not an <img src>) so the
 * request says it is the page's own (`X-Kraken-Page`), which keeps it out of the feed.
 * @param {string} uuid @param {{ card: HTMLElement, thumb: { failed: boolean, busy: boolean, url?: string } }} entry
 */
async function refreshThumbnail (uuid, entry) {
  const image = entry.card.querySelector('.thumb')
  if (!(image instanceof HTMLImageElement) || entry.thumb.failed || entry.thumb.busy) return
  entry.thumb.busy = true
  try {
    const res = await fetch(`/apis/v2/streams/stream-${encodeURIComponent(uuid)}/thumbnail`, { credentials: 'same-origin', cache: 'no-store', headers: { 'x-kraken-page': 'thumbnail' } })
    if (!res.ok || !(res.headers.get('content-type') ?? '').startsWith('image/')) {
      // No picture for this run (the device offers none, or it stopped): asked again after the next start.
      entry.thumb.failed = true
      image.hidden = true
      return
    }
    const url = URL.createObjectURL(await res.blob())
    if (entry.thumb.url !== undefined) URL.revokeObjectURL(entry.thumb.url)
    entry.thumb.url = url
    image.src = url
    image.alt = `Picture of ${entry.card.querySelector('.s-name')?.textContent ?? 'the stream'}`
    image.hidden = entry.card.dataset.status !== 'running'
  } finally {
    entry.thumb.busy = false
  }
}

// ---- the feed ---------------------------------------------------------------------------------------

/** @param {any} entry @param {boolean} newest */
function addFeed (entry, newest) {
  const feed = el('feed')
  const item = document.createElement('li')
  const who = entry.user === null
    ? (entry.role === null ? 'not signed in' : `another ${entry.role}`)
    : `by ${entry.user}`
  const status = entry.status === null ? 'no answer' : String(entry.status)
  item.append(
    span('f-time', new Date(entry.at).toISOString().slice(11, 19)),
    span('f-method', entry.method),
    span('f-path', entry.path),
    span(`f-status ${entry.status !== null && entry.status < 400 ? 'ok' : 'bad'}`, status),
    span('f-user', who)
  )
  if (newest) feed.prepend(item)
  else feed.append(item)
  while (feed.childElementCount > FEED_MAX) feed.lastElementChild?.remove()
}

// ---- small helpers -----------------------------------------------------------------------------------

/** @param {string} className @param {string} content */
function span (className, content) {
  const node = document.createElement('span')
  node.className = className
  node.textContent = content
  return node
}

/** @param {ParentNode} root @param {string} selector @param {string} content */
function text (root, selector, content) {
  const node = root.querySelector(selector)
  if (node !== null) node.textContent = content
}

/** @param {number[]} series @param {number} value */
function push (series, value) {
  series.push(value)
  if (series.length > HISTORY) series.shift()
}

/** Draws a series as a polyline (SVG attributes, not style: the CSP allows no inline style). @param {Element | null} svg @param {number[]} series @param {number} [top] */
function spark (svg, series, top) {
  if (svg === null) return
  const max = top ?? Math.max(1, ...series)
  // The history so far fills the width: a page opened a moment ago has a line too.
  const step = 120 / Math.max(1, series.length - 1)
  const points = series.map((v, i) => `${(i * step).toFixed(1)},${(23 - (v / max) * 22).toFixed(1)}`).join(' ')
  let line = svg.querySelector('polyline')
  if (line === null) {
    line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline')
    svg.append(line)
  }
  line.setAttribute('points', points)
}

/** @param {number} seconds */
function duration (seconds) {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor(seconds / 3600) % 24
  const m = Math.floor(seconds / 60) % 60
  const s = seconds % 60
  return `${d > 0 ? `${d} d ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`
}

start()
