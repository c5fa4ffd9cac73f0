import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import { HSTS } from './transport.ts'
import { typeForStatus } from '../kernel/errors.ts'

/**
 * Answers a request Node's HTTP parser refused (it never reaches Fastify) the way the device's
 * nginx would: a status, its headers (`Server: nginx`, HSTS) and the error envelope, then closes.
 */
export function answerClientError (error: Error & { code?: string }, socket: Socket): void {
  // A peer that went away, or a socket already answered, gets nothing more.
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable) {
    socket.destroy()
    return
  }
  const { status, message } = classify(error.code)
  const body = JSON.stringify({ error: { type: typeForStatus(status), message, details: [] } })
  socket.end([
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Server: nginx',
    `Strict-Transport-Security: ${HSTS}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body
  ].join('\r\n'))
}

function classify (code: string | undefined): { status: number, message: string } {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, message: 'request header fields too large' }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, message: 'request timed out' }
    default:
      return { status: 400, message: 'malformed HTTP request' }
  }
}
