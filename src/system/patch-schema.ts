import { Type, type TObject, type TSchema } from 'typebox'

/** Sent read-only fields are accepted and ignored, so a GET-edit-PUT round trip works. */
export const Ignored = Type.Optional(Type.Unknown({ description: 'read-only: ignored when sent' }))

/**
 * The body of a PUT that merges over a stored singleton: every field optional and without its
 * default (a default would overwrite the stored value), unknown fields refused. `overrides`
 * replaces some fields (read-only ones, nested patches).
 */
export function patchOf (schema: TObject, overrides: Record<string, TSchema> = {}, options: { description?: string, examples?: unknown[] } = {}): TObject {
  const props: Record<string, TSchema> = {}
  for (const [name, property] of Object.entries(schema.properties as Record<string, TSchema>)) {
    props[name] = overrides[name] ?? Type.Optional(withoutDefault(property))
  }
  return Type.Object(props, { additionalProperties: false, ...options })
}

function withoutDefault (schema: TSchema): TSchema {
  if (!('default' in schema)) return schema
  const { default: _dropped, ...rest } = schema as TSchema & { default?: unknown }
  return rest as TSchema
}
