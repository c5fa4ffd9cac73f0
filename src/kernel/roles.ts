import { Type } from 'typebox'

/** The device's three roles (kraken-api.md section 2 [docs]). */
export const roles = ['Administrator', 'Operator', 'Viewer'] as const
export type Role = typeof roles[number]
// An enum, not a union of literals, so a bad value is told every valid role ("must be one of ...").
export const RoleSchema = Type.Enum([...roles], { type: 'string', description: 'Administrator, Operator or Viewer' })

export const ALL_ROLES: readonly Role[] = roles
export const MEDIA_WRITERS: readonly Role[] = ['Administrator', 'Operator']
export const ADMIN_ONLY: readonly Role[] = ['Administrator']
