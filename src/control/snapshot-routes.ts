import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { notFound } from '../kernel/errors.ts'
import { errorResponses, NoContent } from '../kernel/schemas.ts'
import { checkDb } from '../check-db.ts'
import type { Services } from '../services.ts'
import type { DeviceConditions } from './device-conditions.ts'
import { deviceLocal } from '../kernel/device-local.ts'
import { SNAPSHOT_NAME_PATTERN, SnapshotShelf, type DeviceSnapshot } from './snapshot-shelf.ts'

export const SNAPSHOTS_PATH = '/_emulator/snapshots'

const Name = Type.String({ pattern: SNAPSHOT_NAME_PATTERN, description: 'letters, digits, `_` and `-`, up to 128, starting with a letter or digit' })
const Summary = Type.Object({
  name: Type.String(),
  created: Type.String({ description: 'device time it was taken (ISO 8601)' }),
  fixture: Type.String({ description: 'the active fixture then' }),
  streams: Type.Integer({ minimum: 0, description: 'streams that were not stopped (running, starting or in error)' })
}, { additionalProperties: false })
const Params = Type.Object({ name: Name })

function summary (snapshot: DeviceSnapshot): { name: string, created: string, fixture: string, streams: number } {
  return { name: snapshot.name, created: snapshot.created, fixture: snapshot.db.fixture, streams: snapshot.runtime.runs.length }
}

/**
 * Named snapshots of the whole emulator, store and live runtime (which streams run, their
 * statistics counters), not sessions; restoring one ends every session, as a reset does.
 */
export function registerSnapshotRoutes (app: FastifyInstance, services: () => Services, conditions: () => DeviceConditions): void {
  const shelfOf = deviceLocal((s: Services) => new SnapshotShelf(s.store.file))
  const base = { tags: ['Emulator'], security: [{ controlToken: [] }] }
  const nameOf = (request: FastifyRequest): string => (request.params as { name: string }).name

  app.post(SNAPSHOTS_PATH, {
    config: { access: 'control' },
    schema: {
      ...base, operationId: 'emulatorTakeSnapshot', summary: 'Keep the emulator\'s whole state under a name (control route)',
      description: 'The store and the runtime (stream states, counters, NICs down), not sessions. A snapshot of the same name is replaced. ' +
        'Kept in `<data>.snapshots/` next to the data file (so it outlives a restart), in memory with --in-memory.',
      body: Type.Object({ name: Name }, { additionalProperties: false, examples: [{ name: 'before-my-test' }] }),
      response: { 201: Summary, ...errorResponses(400, 401, 403, 413, 415, 500) }
    }
  }, async function takeSnapshot (request: FastifyRequest, reply: FastifyReply) {
    const s = services()
    const snapshot: DeviceSnapshot = {
      name: (request.body as { name: string }).name,
      created: new Date(s.clock.now()).toISOString(),
      db: s.store.snapshot(),
      runtime: s.runtime.snapshot(),
      nicsDown: Object.fromEntries(conditions().nicsDown)
    }
    await shelfOf(services()).put(snapshot)
    return reply.code(201).send(summary(snapshot))
  })

  app.get(SNAPSHOTS_PATH, {
    config: { access: 'control' },
    schema: {
      ...base, operationId: 'emulatorListSnapshots', summary: 'The snapshots kept (control route)',
      response: { 200: Type.Object({ snapshots: Type.Array(Summary) }, { additionalProperties: false }), ...errorResponses(401, 403, 500) }
    }
  }, async function listSnapshots () {
    return { snapshots: (await shelfOf(services()).list()).map(summary) }
  })

  app.post(`${SNAPSHOTS_PATH}/:name/restore`, {
    config: { access: 'control', bodyOptional: true },
    schema: {
      ...base, operationId: 'emulatorRestoreSnapshot', summary: 'Put the emulator back in a snapshot\'s state (control route)',
      description: 'The store and the runtime become the snapshot\'s: running streams go on with the counters they had; every session ends, as after a reset. ' +
        'The clock does not move back. Answers once the state is durable.',
      params: Params,
      response: { 200: Summary, ...errorResponses(400, 401, 403, 404, 500) }
    }
  }, async function restoreSnapshot (request: FastifyRequest) {
    const s = services()
    const snapshot = await shelfOf(services()).get(nameOf(request))
    if (snapshot === undefined) throw notFound(`snapshot '${nameOf(request)}'`)
    // A snapshot file edited by hand is checked like a data file before it replaces anything.
    checkDb(snapshot.db, s.registry)
    const durable = s.store.replace(snapshot.db)
    s.sessions.clear()
    s.lockout.clear()
    s.runtime.cancelReboot()
    conditions().clear()
    for (const [nic, speed] of Object.entries(snapshot.nicsDown)) conditions().nicsDown.set(nic, speed)
    s.runtime.restore(snapshot.runtime)
    await durable
    return summary(snapshot)
  })

  app.delete(`${SNAPSHOTS_PATH}/:name`, {
    config: { access: 'control' },
    schema: {
      ...base, operationId: 'emulatorDeleteSnapshot', summary: 'Forget a snapshot (control route)',
      params: Params,
      response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 500) }
    }
  }, async function deleteSnapshot (request: FastifyRequest, reply: FastifyReply) {
    if (!await shelfOf(services()).delete(nameOf(request))) throw notFound(`snapshot '${nameOf(request)}'`)
    return reply.code(204).send()
  })
}
