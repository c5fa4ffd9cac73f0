import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { loadOrCreateCertificate, tlsServerOptions } from '../tls/certificate.ts'
import { endToEnd, type Recorder } from './recorder.ts'

export interface RecordProxy {
  url: string
  port: number
  close: () => Promise<void>
}

/**
 * An HTTPS server that relays every request to the device through the recorder and relays the
 * answer back unchanged. Its certificate is made in memory for this run (a client pointed at it
 * trusts it as it would trust an emulator's, or skips verification).
 */
export async function startRecordProxy (recorder: Recorder, options: { host: string, port: number, onError: (message: string) => void }): Promise<RecordProxy> {
  const tls = await loadOrCreateCertificate({ inMemory: true })
  const server = https.createServer({ key: tls.key, cert: tls.cert, ...tlsServerOptions }, (req, res) => { relay(recorder, req, res, options.onError) })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => { server.off('error', reject); resolve() })
  })
  const port = (server.address() as AddressInfo).port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return {
    url: `https://${host}:${port}`,
    port,
    close: () => new Promise(resolve => {
      server.close(() => resolve())
      server.closeIdleConnections()
    })
  }
}

function relay (recorder: Recorder, req: IncomingMessage, res: ServerResponse, onError: (message: string) => void): void {
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('error', error => onError(`reading a request: ${error.message}`))
  req.on('end', () => {
    const raw = req.url ?? '/'
    const q = raw.indexOf('?')
    recorder.send({
      method: req.method ?? 'GET',
      path: q === -1 ? raw : raw.slice(0, q),
      query: q === -1 ? '' : raw.slice(q + 1),
      headers: req.headers,
      body: Buffer.concat(chunks)
    }).then(answer => {
      const headers = endToEnd(answer.headers)
      headers['content-length'] = String(answer.body.length)
      res.writeHead(answer.status, headers)
      res.end(answer.body)
    }, (error: unknown) => {
      // The client gets a gateway error; the capture keeps the exchange with its error.
      onError(`${req.method ?? 'GET'} ${raw}: ${(error as Error).message}`)
      res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ error: { type: 'BadGateway', message: 'the recorder could not reach the device', details: [] } }))
    })
  })
}
