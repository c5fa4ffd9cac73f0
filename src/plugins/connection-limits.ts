import type { Server } from 'node:net'
import type { Config } from '../config.ts'

type Limits = Pick<Config, 'headerTimeout' | 'requestTimeout' | 'maxConnections'>

/**
 * Options for `https.createServer` (Fastify passes its `https` object through): how long a slow
 * client may hold a connection [ours, after nginx's client_header_timeout and client_body_timeout].
 * - the TLS handshake and then each request head get `headerTimeout` (nginx gives the handshake
 *   its header timeout too; Node's default handshake timeout is 120 s);
 * - a whole request, head and body, gets `requestTimeout` (Fastify's own `requestTimeout` must be
 *   given the same value: it sets the server's after creating it, 0 = never, by default);
 * - Node checks those two every `connectionsCheckingInterval` (30 s by default, which would let a
 *   client stay up to twice the timeout): a tenth of the shorter one, at most 1 s, so a client is
 *   cut within 1 s of its timeout (and a test with 100 ms limits waits 110 ms).
 * An idle keep-alive connection is none of these: it waits for its next request under the
 * keep-alive timeout (Fastify's default, 72 s; nginx's is 75 s), unaffected.
 */
export function connectionTimeouts (config: Limits): { headersTimeout: number, requestTimeout: number, connectionsCheckingInterval: number, handshakeTimeout: number } {
  // Node refuses a head timeout longer than the whole request's; a request cannot outlast either.
  const headersTimeout = Math.min(config.headerTimeout, config.requestTimeout)
  return {
    headersTimeout,
    requestTimeout: config.requestTimeout,
    connectionsCheckingInterval: Math.max(1, Math.min(1000, Math.floor(headersTimeout / 10))),
    handshakeTimeout: headersTimeout
  }
}

/**
 * Past `maxConnections` Node accepts a connection and closes it at once, as nginx does when its
 * worker_connections are all in use ("worker_connections are not enough") [ours, after nginx]: a
 * client sees the connection reset, no answer. A timed-out client is closed without an answer too
 * (plugins/client-error.ts), as nginx does.
 */
export function installConnectionLimits (server: Server, config: Limits): void {
  server.maxConnections = config.maxConnections
}
