// The bench's own HTTPS client (undici), trusting exactly the certificate the servers use.
import { Agent, request } from 'undici'

export class BenchClient {
  readonly agent: Agent

  constructor (ca: string) {
    this.agent = new Agent({ connect: { ca, servername: 'localhost' }, connections: 8 })
  }

  async send (url: string, method: 'GET' | 'POST' | 'PUT' | 'DELETE', cookie?: string, body?: unknown): Promise<{ status: number, text: string, cookies: string[] }> {
    const headers: Record<string, string> = {}
    if (cookie !== undefined) headers.cookie = cookie
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), dispatcher: this.agent })
    const text = await res.body.text()
    return { status: res.statusCode, text, cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []) }
  }

  /** Logs in and returns `id=<session>`. */
  async login (base: string, username = 'haiadmin', password = 'krakenapi'): Promise<string> {
    const res = await this.send(`${base}/apis/v2/login`, 'POST', undefined, { username, password })
    const id = res.cookies.map(c => /^id=([^;]+)/.exec(c)?.[1]).find(v => v !== undefined)
    if (res.status !== 204 || id === undefined) throw new Error(`login at ${base} answered ${res.status} ${res.text}`)
    return `id=${id}`
  }

  /** `count` sessions, logged in a few at a time (each login is a deliberate scrypt). */
  async sessions (base: string, count: number): Promise<string[]> {
    const out: string[] = []
    while (out.length < count) {
      const batch = Math.min(4, count - out.length)
      out.push(...await Promise.all(Array.from({ length: batch }, () => this.login(base))))
    }
    return out
  }

  async close (): Promise<void> {
    await this.agent.close()
  }
}
