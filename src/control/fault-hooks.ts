import type { Socket } from 'node:net'
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Clock } from '../kernel/clock.ts'
import { typeForStatus } from '../kernel/errors.ts'
import type { Faults } from './faults.ts'
import type { RequestLog } from './request-log.ts'
import { isControlRequest } from '../kernel/route-scope.ts'
import { recordRequest, routeOf, sentPath } from './request-log-hooks.ts'

/** What the fault hooks need from the device they belong to. */
export interface FaultServices {
  faults: Faults
  requestLog: RequestLog
  clock: Clock
}

/**
 * Faults strike where they would on a real network: a delay, an error answer, a reset or an empty
 * reply before the route runs (onRequest, after the guards, so a fault can match the session's
 * user); a dribbled body as the answer leaves (onSend). Never on /_emulator routes.
 */
export function installFaults (app: FastifyInstance, services: () => FaultServices): void {
  app.addHook('onRequest', function strikeFault (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const s = services()
    if (s.faults.size === 0 || isControlRequest(request)) { done(); return }
    const hit = s.faults.strike({ method: request.method, path: sentPath(request), route: routeOf(request), user: request.session?.username ?? null })
    if (hit === undefined) { done(); return }
    const { fault, delayMs } = hit
    const action = fault.action
    request.struck = action.type === 'delay' ? { id: fault.id, action, delayMs } : { id: fault.id, action }
    switch (action.type) {
      case 'delay':
        s.clock.setTimeout(done, delayMs)
        return
      case 'error':
        void reply.code(action.status).type('application/json; charset=utf-8')
          .send({ error: { type: typeForStatus(action.status), message: action.message ?? `injected fault ${fault.id}`, details: [] } })
        return
      case 'reset':
      case 'empty':
        // No answer will be sent, so no onResponse: the log entry is written here.
        recordRequest(s.requestLog, s.clock, request, null)
        reply.hijack()
        cut(request.raw.socket, action.type)
        return
      case 'dribble':
        done()
    }
  })

  app.addHook('onSend', function dribbleBody (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void) {
    const action = request.struck?.action
    if (action?.type !== 'dribble' || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) { done(null, payload); return }
    const bytes = Buffer.from(payload)
    void reply.header('content-length', String(bytes.length))
    done(null, dribble(bytes, action.chunkBytes, action.intervalMs, services().clock))
  })
}

/**
 * `reset` sends a TCP RST (the client sees ECONNRESET); `empty` closes the connection cleanly
 * without a byte (the client sees the other side close). Under TLS the TCP socket is the TLS
 * socket's `_parent` (Node's own field, undocumented but long-standing): resetting only the TLS
 * layer would send a FIN. Without one (plain HTTP) the socket itself is the TCP socket.
 */
function cut (socket: Socket, how: 'reset' | 'empty'): void {
  if (how === 'empty') { socket.destroy(); return }
  const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket
  if (typeof tcp.resetAndDestroy === 'function') tcp.resetAndDestroy()
  else socket.destroy()
}

/** The bytes one chunk at a time: the first at once, each next one `intervalMs` later on the emulator's clock. */
function dribble (bytes: Buffer, chunkBytes: number, intervalMs: number, clock: Clock): Readable {
  let offset = 0
  return new Readable({
    read () {
      if (offset >= bytes.length) { this.push(null); return }
      const chunk = bytes.subarray(offset, offset + chunkBytes)
      const first = offset === 0
      offset += chunkBytes
      if (first) this.push(chunk)
      else clock.setTimeout(() => this.push(chunk), intervalMs)
    }
  })
}
