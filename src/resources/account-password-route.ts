import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { itemRoute, type Resource } from '../kernel/define-resource.ts'
import { findItem } from '../kernel/crud-routes.ts'
import { forbidden, invalid, notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors, NoContent } from '../kernel/schemas.ts'
import { ALL_ROLES } from '../kernel/roles.ts'
import { hashPassword, verifyPassword } from '../auth/passwords.ts'
import { assertPasswordPolicy } from './account-rules.ts'
import { assertSessionLive } from '../kernel/caller.ts'

export const PasswordChange = Type.Object({
  current_password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'the account\'s current password: required to change your own; optional for an Administrator' })),
  new_password: Type.String({ minLength: 1, maxLength: 1024, description: 'the new password (password policy: 15-80 characters with a lower case and an upper case letter, a digit and one of ! @ # $ % ^ & *)' })
}, { additionalProperties: false, examples: [{ current_password: 'krakenapi', new_password: 'Trainee!Passw0rd-2024' }] })

/**
 * `PUT /apis/v2/accounts/account-<name>/password` (kraken-api.md section 2): any role for its own
 * account with the current password, an Administrator for any account. 204 on success; every
 * other session of that user ends, so a stolen session does not survive the change [ours].
 */
export function registerPasswordRoute (app: FastifyInstance, resource: Resource): void {
  app.put(`${itemRoute(resource)}/password`, {
    config: { roles: ALL_ROLES },
    schema: {
      tags: [resource.tag], operationId: 'changeAccountPassword', summary: 'Change an account\'s password',
      description: 'Any role may change its own password (current_password required); an Administrator may change any account\'s (current_password optional, checked when given). Ends every other session of that user.',
      security: [{ session: [] }],
      params: Type.Object({ [resource.paramName]: Type.String({ description: 'the account name' }) }),
      body: PasswordChange,
      response: { 204: NoContent, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function changeAccountPassword (request: FastifyRequest, reply: FastifyReply) {
    const services = request.server.kraken
    const session = request.session!
    // findItem answers 404, and 403 for an account the caller may not even read.
    const account = findItem(services.store, resource, request.params as Record<string, string>, request)
    const name = String(account.name)
    const own = session.username === name
    const admin = session.role === 'Administrator'
    if (!own && !admin) throw forbidden(`the ${session.role} role may change only its own password`)

    const { current_password: current, new_password: next } = request.body as { current_password?: string, new_password: string }
    if (current === undefined && !admin) throw invalid('current_password', 'is required to change your own password')
    // approximation: a wrong current password is a 400 on the field (the device's answer is not
    // published); a 401 would make clients believe their session expired [ours].
    if (current !== undefined && !await verifyPassword(current, account.password_hash)) {
      throw invalid('current_password', 'is not the account\'s current password')
    }
    assertPasswordPolicy('new_password', next, services.config.passwordPolicy)
    const hash = await hashPassword(next, services.config.passwordHash)

    // Re-read after the awaits: the account may have been changed or deleted meanwhile.
    const latest = services.store.get(resource.collection, name)
    if (latest === undefined) throw notFound(`account '${name}'`)
    assertSessionLive(request)
    await services.store.commit([{ op: 'put', collection: resource.collection, id: name, item: { ...latest, password_hash: hash } }])
    services.sessions.endUser(name, own ? session.id : undefined)
    return reply.code(204).send()
  })
}
