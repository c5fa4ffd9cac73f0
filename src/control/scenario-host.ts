import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import type { Role } from '../kernel/roles.ts'
import type { Services } from '../services.ts'
import type { ScenarioHost } from './scenario-player.ts'

/**
 * The emulator as a scenario plays on it: requests go through `app.inject`, so the route guard,
 * the faults and the request log treat them as any client's; sessions are opened behind the API
 * (the player knows no password) and reused while they live.
 */
export function scenarioHost (app: FastifyInstance, services: () => Services): ScenarioHost {
  const sessions = new Map<string, string>()
  return {
    clock: { now: () => services().clock.now(), setTimeout: (fn, ms) => services().clock.setTimeout(fn, ms) },
    request: async ({ method, url, headers, payload }) => {
      try {
        const res = await app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined && { payload }) })
        return { statusCode: res.statusCode, body: res.body }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'LIGHT_ECONNRESET') throw error
        throw new Error(`${method} ${url}: the connection was closed without an answer (the device is unreachable, or a fault cut it)`)
      }
    },
    lookup: (collection, name) => {
      const item = services().store.list(collection).find(i => i.name === name)
      return item === undefined ? undefined : String(item.uuid)
    },
    session: username => {
      const s = services()
      const known = sessions.get(username)
      if (known !== undefined && s.sessions.touch(known) !== undefined) return known
      const account = s.store.get('accounts', username)
      if (account === undefined) throw new Error(`no account is named '${username}'`)
      if (account.state !== 'Active') throw new Error(`account '${username}' is ${String(account.state)}: it cannot log in`)
      const session = s.sessions.create(username, account.role as Role)
      sessions.set(username, session.id)
      return session.id
    },
    controlToken: () => services().control.token,
    warn: (details, message) => { services().log.warn(details, message) }
  }
}

/**
 * An injected request has a stand-in socket without `destroy()`: a device that is unreachable, or
 * a `reset`/`empty` fault, would throw on it and leave the scenario's request unanswered forever.
 * Closing it ends the injected response instead, which `app.inject` reports as a closed connection.
 * Installed before the hooks that cut connections.
 */
export function installInjectedCut (app: FastifyInstance): void {
  app.addHook('onRequest', function injectedCut (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) {
    const raw = request.raw as typeof request.raw & { isLightMyRequest?: boolean }
    const socket = raw.socket as typeof raw.socket | undefined
    if (raw.isLightMyRequest === true && socket !== undefined && typeof socket.destroy !== 'function') {
      const cut = (): typeof socket => { reply.raw.destroy(); return socket }
      Object.assign(socket, { destroy: cut, resetAndDestroy: cut })
    }
    done()
  })
}
