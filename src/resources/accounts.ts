import { Type } from 'typebox'
import { defineResource } from '../kernel/define-resource.ts'
import { RoleSchema } from '../auth/roles.ts'

/** Accounts (kraken-api.md section 2): the id is the username. Placeholder until the catalog lands. */
export const AccountSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 32 }),
  role: RoleSchema,
  state: Type.Union([Type.Literal('Active'), Type.Literal('Locked'), Type.Literal('Disabled')], { default: 'Disabled' }),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  password_hash: Type.Optional(Type.String())
}, { additionalProperties: false })

export const accounts = defineResource({
  singular: 'account',
  plural: 'accounts',
  description: 'A user account of the device',
  schema: AccountSchema,
  idField: 'name',
  writeOnly: ['password'],
  internal: ['password_hash'],
  summary: ['name', 'role', 'state'],
  access: { read: ['Administrator'], write: ['Administrator'] }
})
