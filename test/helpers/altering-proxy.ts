// A stand-in for a real Kraken that differs from the emulator: an HTTPS proxy in front of an
// emulator that can rewrite its answers, and that keeps every cookie value it passes on (the
// secrets the capture and report tests search for).
import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { loadOrCreateCertificate } from '../../src/tls/certificate.ts'

export interface Alteration {
  /** Rewrites a JSON body of the answer to a GET of `path`; returns it (or a new one). */
  json?: (path: string, body: Record<string, unknown>) => Record<string, unknown>
  /** Rewrites each Set-Cookie line. */
  setCookie?: (line: string) => string
}

export interface AlteringProxy {
  url: string
  /** Every cookie value the device set, as sent (the real session ids). */
  cookieValues: Set<string>
  alteration: Alteration
  close: () => Promise<void>
}

export async function startAlteringProxy (target: string): Promise<AlteringProxy> {
  const tls = await loadOrCreateCertificate({ inMemory: true })
  const device = new URL(target)
  const agent = new https.Agent({ keepAlive: true, rejectUnauthorized: false })
  const cookieValues = new Set<string>()
  const proxy: Partial<AlteringProxy> = { cookieValues, alteration: {} }
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const headers: IncomingHttpHeaders = { ...req.headers, host: device.host }
      delete headers.connection
      const out = https.request({ hostname: device.hostname, port: device.port, method: req.method, path: req.url, headers, agent }, answer => {
        const parts: Buffer[] = []
        answer.on('data', (c: Buffer) => parts.push(c))
        answer.on('end', () => {
          let body = Buffer.concat(parts)
          const h = { ...answer.headers }
          delete h.connection
          delete h['keep-alive']
          delete h['transfer-encoding']
          const alteration = proxy.alteration!
          const cookies = (h['set-cookie'] ?? []).map(line => {
            const value = /^[^=]+=([^;]*)/.exec(line)?.[1]
            if (value !== undefined && value !== '') cookieValues.add(value)
            return alteration.setCookie?.(line) ?? line
          })
          if (cookies.length > 0) h['set-cookie'] = cookies
          if (alteration.json !== undefined && req.method === 'GET' && String(h['content-type']).includes('json') && body.length > 0) {
            body = Buffer.from(JSON.stringify(alteration.json(req.url ?? '', JSON.parse(body.toString('utf8')) as Record<string, unknown>)))
          }
          h['content-length'] = String(body.length)
          res.writeHead(answer.statusCode ?? 502, h)
          res.end(body)
        })
      })
      out.on('error', error => { res.writeHead(502); res.end(String(error)) })
      out.end(Buffer.concat(chunks))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = () => new Promise(resolve => {
    agent.destroy()
    server.close(() => resolve())
    server.closeAllConnections()
  })
  return proxy as AlteringProxy
}
