import tls from 'node:tls'

/**
 * Sends `lines` (an HTTP/1.1 request head, without the final blank line) byte for byte over TLS
 * and returns the raw response. For what a high-level client will not send: two Cookie lines,
 * odd spacing. Adds `Connection: close` so the response ends with the socket.
 */
export async function rawRequest (emulator: { port: number, certificate: string }, lines: string[], body = ''): Promise<{ status: number, head: string, body: string }> {
  const socket = tls.connect({ host: '127.0.0.1', port: emulator.port, ca: emulator.certificate, servername: 'localhost' })
  const chunks: Buffer[] = []
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => {
      socket.write([...lines, 'Connection: close', '', ''].join('\r\n') + body)
    })
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.once('end', () => resolve())
    socket.once('error', reject)
  })
  socket.destroy()
  const text = Buffer.concat(chunks).toString('utf8')
  const split = text.indexOf('\r\n\r\n')
  const head = split === -1 ? text : text.slice(0, split)
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0)
  return { status, head, body: split === -1 ? '' : text.slice(split + 4) }
}
