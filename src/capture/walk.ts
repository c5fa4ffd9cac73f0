import { CaptureError } from './capture-format.ts'
import type { Recorder, DeviceAnswer } from './recorder.ts'

export interface WalkOptions {
  username: string
  password: string
  /** GET routes to read, `:param` style, parents before children (known-routes.ts). */
  routes: readonly string[]
}

const JSON_HEADERS = { accept: 'application/json' }

/**
 * Logs in and reads every GET route: each list, then each item of it (ids from the list), and so
 * on down. Only GETs, and the logout comes last, so the walk changes nothing on the device and
 * keeps its session to the end. Returns the number of reads; throws when the login fails.
 */
export async function walkDevice (recorder: Recorder, options: WalkOptions): Promise<number> {
  const body = Buffer.from(JSON.stringify({ username: options.username, password: options.password }))
  const login = await recorder.send({ method: 'POST', path: '/apis/v2/login', query: '', headers: { 'content-type': 'application/json', ...JSON_HEADERS }, body })
  if (login.status < 200 || login.status > 299) throw new CaptureError(`the device refused the login of ${options.username} (status ${login.status})`)
  const session = sessionCookie(login)
  if (session === undefined) throw new CaptureError('the device accepted the login but set no `id` cookie')
  const headers = { ...JSON_HEADERS, cookie: `id=${session}` }
  const read = new Map<string, DeviceAnswer>()
  const get = async (path: string): Promise<DeviceAnswer> => {
    let answer = read.get(path)
    if (answer === undefined) {
      answer = await recorder.send({ method: 'GET', path, query: '', headers, body: Buffer.alloc(0) })
      read.set(path, answer)
    }
    return answer
  }
  try {
    for (const route of options.routes) {
      for (const path of await concretePaths(route, get)) await get(path)
    }
  } finally {
    await recorder.send({ method: 'GET', path: '/apis/v2/logout', query: '', headers, body: Buffer.alloc(0) })
  }
  return read.size
}

/** The value of the `id` cookie a login set. */
export function sessionCookie (answer: DeviceAnswer): string | undefined {
  const cookies = answer.headers['set-cookie'] ?? []
  for (const cookie of cookies) {
    const m = /^\s*id=([^;]*)/.exec(cookie)
    if (m !== null && m[1] !== '') return m[1]
  }
  return undefined
}

/**
 * The paths a route template stands for: each `:param` segment is filled with the ids the
 * collection above it lists (`input-:inputId` with every `input_list` item's uuid).
 */
async function concretePaths (route: string, get: (path: string) => Promise<DeviceAnswer>): Promise<string[]> {
  let prefixes = ['']
  for (const segment of route.split('/').slice(1)) {
    const param = /^([^:]*):\w+$/.exec(segment)
    if (param === null) {
      prefixes = prefixes.map(p => `${p}/${segment}`)
      continue
    }
    const next: string[] = []
    for (const prefix of prefixes) {
      const answer = await get(prefix)
      for (const id of listedIds(answer)) next.push(`${prefix}/${param[1]!}${encodeURIComponent(id)}`)
    }
    prefixes = next
  }
  return prefixes
}

/** The ids a list answer names: the items of its `*_list` array (their uuid, else name), or its strings. */
export function listedIds (answer: DeviceAnswer): string[] {
  if (answer.status !== 200) return []
  let body: unknown
  try {
    body = JSON.parse(answer.body.toString('utf8'))
  } catch {
    return [] // not a list: nothing below it to read
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return []
  const list = Object.entries(body).find(([key, value]) => key.endsWith('_list') && Array.isArray(value))?.[1] as unknown[] | undefined
  const ids: string[] = []
  for (const item of list ?? []) {
    if (typeof item === 'string') ids.push(item)
    else if (item !== null && typeof item === 'object') {
      const id = (item as Record<string, unknown>).uuid ?? (item as Record<string, unknown>).name
      if (typeof id === 'string' || typeof id === 'number') ids.push(String(id))
    }
  }
  return ids
}
