import type { Socket } from 'node:net'
import { STATUS_CODES } from 'node:http'
import { HSTS } from './transport.ts'
import { typeForStatus } from '../kernel/errors.ts'

/**
 * Answers a request Node's HTTP parser refused (it never reaches Fastify) the way the device's
 * nginx would: a status, its headers (`Server: nginx`, HSTS) and the error envelope, then closes.
 */
export function answerClientError (error: Error & { code?: string }, socket: Socket): void {
  // A peer that went away, or a socket already answered, gets nothing more. Nor does a client
  // past --header-timeout or --request-timeout (or its TLS handshake's): nginx logs 408 but sends
  // nothing (ngx_http_finalize_request terminates a NGX_HTTP_REQUEST_TIME_OUT request like an
  // error, without a response) [ours, after nginx]; see plugins/connection-limits.ts.
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || !socket.writable ||
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT' || error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') {
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
    default:
      return { status: 400, message: 'malformed HTTP request' }
  }
}
