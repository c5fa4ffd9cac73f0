import { Type } from 'typebox'
import { defineResource, type RuleContext } from '../kernel/define-resource.ts'
import { conflict, invalid } from '../kernel/errors.ts'
import type { Item } from '../kernel/store.ts'
import { ADMIN_ONLY, ALL_ROLES, RoleSchema, type Role } from '../kernel/roles.ts'
import { hashPassword } from '../auth/passwords.ts'
import {
  ACCOUNT_NAME_PATTERN, ACCOUNT_NAME_RULE, ACCOUNTS, assertKeepsAdministrator, assertNotLastAdministrator,
  assertPasswordPolicy, isActiveAdministrator, requestedState
} from './account-rules.ts'
import { registerPasswordRoute } from './account-password-route.ts'

/**
 * Accounts (kraken-api.md section 2): the id is the username. The stored shape is
 * {name, role, state, password_hash}: src/seed.ts writes it and login reads it.
 */
export const AccountSchema = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 32,
    description: `the username and the id of the account, 1-32 characters; it ${ACCOUNT_NAME_RULE}; cannot be changed`
  }),
  role: RoleSchema,
  state: Type.Enum(['Active', 'Locked', 'Disabled'], {
    type: 'string',
    default: 'Disabled',
    description: 'Active, Locked or Disabled; a new account is Disabled unless the body says otherwise [docs]. Shows Locked while too many failed logins lock it; setting Active unlocks it.'
  }),
  password: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 1024,
    description: 'write-only, required on create: 15-80 characters with a lower case and an upper case letter, a digit and one of ! @ # $ % ^ & * (unless the password policy is off)'
  })),
  password_hash: Type.Optional(Type.String())
}, { additionalProperties: false })

export const accounts = defineResource({
  singular: 'account',
  plural: ACCOUNTS,
  description: 'A user account of the device',
  schema: AccountSchema,
  idField: 'name',
  writeOnly: ['password'],
  internal: ['password_hash'],
  summary: ['name', 'role', 'state'],
  // approximation: the contract's roles table lets an Operator "read everything" and a Viewer
  // read "everything except other accounts"; the device's behaviour is not published [ours].
  access: { read: ALL_ROLES, write: ADMIN_ONLY },
  visible: (session, item) => session.role !== 'Viewer' || item.name === session.username,
  validate: validateAccount,
  toStored: storeAccount,
  beforeDelete: deleteAccount,
  present: (request, item) => {
    const { lockout } = request.server.kraken
    return item.state === 'Active' && lockout.isLocked(String(item.name)) ? { ...item, state: 'Locked' } : item
  },
  routes: registerPasswordRoute,
  examples: {
    create: { name: 'trainee', role: 'Operator', state: 'Active', password: 'Trainee!Passw0rd-2024' },
    update: { state: 'Active' }
  }
})

function validateAccount (ctx: RuleContext, next: Item, previous: Item | undefined): void {
  const { config, lockout } = ctx.request.server.kraken
  if (previous === undefined) {
    // Checked here rather than as a schema pattern so the 400 says which characters are refused.
    if (!ACCOUNT_NAME_PATTERN.test(String(next.name))) throw invalid('name', ACCOUNT_NAME_RULE)
    if (next.password === undefined) throw invalid('password', 'is required')
  }
  // The kernel drops the id from a PUT body; a different name there would be silently ignored,
  // so it is refused instead [ours: the name is the id and ids never change].
  const sent = (ctx.request.body as Item | undefined)?.name
  if (previous !== undefined && sent !== undefined && sent !== previous.name) {
    throw invalid('name', 'cannot be changed (it is the account id); create a new account instead')
  }
  if (typeof next.password === 'string') assertPasswordPolicy('password', next.password, config.passwordPolicy)
  assertKeepsAdministrator(ctx.store, { ...next, state: requestedState(next, previous, lockout) }, previous)
}

async function storeAccount (ctx: RuleContext, next: Item, previous: Item | undefined): Promise<Item> {
  const services = ctx.request.server.kraken
  const { password, ...stored } = next
  const name = String(next.name)
  stored.state = requestedState(next, previous, services.lockout)
  if (typeof password === 'string') stored.password_hash = await hashPassword(password, services.config.passwordHash)
  // Hashing awaited: another request may have changed the accounts meanwhile, so the rules that
  // depend on siblings are checked again right before the kernel commits.
  if (previous === undefined && ctx.store.get(ACCOUNTS, name) !== undefined) {
    throw conflict(`name '${name}' is already used by another account`, [{ field: 'name', message: 'is already used' }])
  }
  assertKeepsAdministrator(ctx.store, stored, previous)

  // Live sessions follow the account at once (the change is applied in memory by the commit
  // that follows without another await).
  const { sessions, lockout } = services
  if (previous !== undefined) {
    if (stored.state !== 'Active') sessions.endUser(name)
    else if (stored.role !== previous.role) sessions.updateRole(name, stored.role as Role)
    if (typeof password === 'string') sessions.endUser(name, ctx.session.username === name ? ctx.session.id : undefined)
  }
  // An Administrator setting Active unlocks an account the brute-force lockout holds.
  if ((ctx.request.body as Item | undefined)?.state === 'Active') lockout.clear(name)
  return stored
}

function deleteAccount (ctx: RuleContext, item: Item): void {
  const name = String(item.name)
  if (isActiveAdministrator(item)) assertNotLastAdministrator(ctx.store, name, 'name', 'deleted')
  const { sessions, lockout } = ctx.request.server.kraken
  sessions.endUser(name)
  lockout.clear(name)
}
