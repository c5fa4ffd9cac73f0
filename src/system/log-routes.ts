// Logs (kraken-api.md section 10: per-stream logs can be turned off and on, `log_to_file`)
// [shapes ours]: the system log and each stream's log, downloaded as text.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE, itemRoute } from '../kernel/define-resource.ts'
import { notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors } from '../kernel/schemas.ts'
import { ALL_ROLES } from '../kernel/roles.ts'
import { readDateTime, localIso } from './datetime.ts'
import { STREAM_LOG_BYTES, SYSTEM_LOG_BYTES, type LogLine } from './device-log.ts'
import { readNetwork } from './network-routes.ts'
import type { MaintenanceServices } from './maintenance-services.ts'

export const SYSTEM_LOG_PATH = `${API_BASE}/system/log`

export function registerLogRoutes (app: FastifyInstance, services: () => MaintenanceServices): void {
  /** Syslog-like lines: local time with its offset, host name, facility, text. */
  function text (lines: readonly LogLine[]): string {
    const { store } = services()
    const { timezone } = readDateTime(store)
    const host = readNetwork(store).hostname
    return lines.map(l => `${localIso(l.at, timezone)} ${host} ${l.facility}: ${l.text}\n`).join('')
  }
  const send = (reply: FastifyReply, name: string, body: string) =>
    reply.type('text/plain; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'no-store').send(body)

  app.get(SYSTEM_LOG_PATH, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: ['System'], operationId: 'downloadSystemLog', summary: 'Download the system log',
      security: [{ session: [] }],
      description: 'Text (`text/plain`), oldest line first: logins, configuration changes, stream status changes, firmware and errors as the ' +
        `emulator saw them, time-stamped in the device's time zone. The newest ${SYSTEM_LOG_BYTES / 1024} KiB are kept; a reset clears it. ` +
        'Passwords, passphrases and session ids never appear in it.',
      response: { ...errorResponses(...guardedErrors) }
    }
  }, async function downloadSystemLog (_request: FastifyRequest, reply: FastifyReply) {
    return send(reply, 'system.log', text(services().deviceLog.systemLines()))
  })

  const streams = services().registry.top('streams')
  if (streams === undefined) return
  const Params = Type.Object({ [streams.paramName]: Type.String({ description: 'the stream\'s uuid' }) })
  app.get(`${itemRoute(streams)}/log`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: [streams.tag], operationId: 'downloadStreamLog', summary: 'Download a stream\'s log',
      security: [{ session: [] }],
      params: Params,
      description: 'Text (`text/plain`): the stream\'s status changes, errors and configuration changes, written only while its `log_to_file` ' +
        `is true ("Enable Logs and Restart Stream"). The newest ${STREAM_LOG_BYTES / 1024} KiB are kept; deleting the stream deletes its log.`,
      response: { ...errorResponses(...guardedErrors) }
    }
  }, async function downloadStreamLog (request: FastifyRequest, reply: FastifyReply) {
    const uuid = (request.params as Record<string, string>)[streams.paramName] ?? ''
    if (services().store.get(streams.collection, uuid) === undefined) throw notFound(`stream '${uuid}'`)
    return send(reply, `stream-${uuid}.log`, text(services().deviceLog.streamLines(uuid)))
  })
}
