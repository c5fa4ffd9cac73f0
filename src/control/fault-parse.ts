import { invalid, KrakenError } from '../kernel/errors.ts'
import { FAULT_ACTIONS, type FaultAction, type FaultSpec } from './faults.ts'
import type { RequestMatcher } from './request-match.ts'

const MAX_MS = 600_000

/** Keys each action takes besides `type`. */
const ACTION_KEYS: Record<FaultAction['type'], readonly string[]> = {
  delay: ['ms', 'minMs', 'maxMs'],
  error: ['status', 'message'],
  reset: [],
  empty: [],
  dribble: ['chunkBytes', 'intervalMs']
}

/**
 * Reads the body of POST /_emulator/faults. Checked here rather than by the route's schema (which
 * documents it) so that each refusal names its field in words, and an unknown action lists the
 * valid ones, instead of Ajv's "must match a schema in anyOf".
 */
export function parseFault (body: unknown): FaultSpec {
  const top = object(body, 'body')
  onlyKeys(top, ['match', 'action', 'times', 'probability'], '')
  const spec: FaultSpec = { match: parseMatch(top.match), action: parseAction(top.action) }
  if (top.times !== undefined) spec.times = integer(top.times, 'times', 1, 1_000_000_000)
  if (top.probability !== undefined) {
    const p = top.probability
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw invalid('probability', 'must be a number from 0 to 1')
    spec.probability = p
  }
  return spec
}

function parseMatch (value: unknown): RequestMatcher {
  if (value === undefined) return {}
  const match = object(value, 'match')
  onlyKeys(match, ['method', 'path', 'user'], 'match.')
  const out: RequestMatcher = {}
  if (match.method !== undefined) {
    if (typeof match.method !== 'string' || !/^[A-Za-z]{1,20}$/.test(match.method)) throw invalid('match.method', 'must be an HTTP method such as GET')
    out.method = match.method.toUpperCase()
  }
  if (match.path !== undefined) {
    if (typeof match.path !== 'string' || !match.path.startsWith('/') || match.path.length > 2048) throw invalid('match.path', 'must be a path, route template or glob starting with /')
    if (match.path.startsWith('/_emulator')) throw invalid('match.path', 'faults never strike the /_emulator control routes')
    out.path = match.path
  }
  if (match.user !== undefined) {
    if (typeof match.user !== 'string' || match.user === '') throw invalid('match.user', 'must be a user name')
    out.user = match.user
  }
  return out
}

function parseAction (value: unknown): FaultAction {
  if (value === undefined) throw invalid('action', `is required: an object whose type is one of ${FAULT_ACTIONS.join(', ')}`)
  const action = object(value, 'action')
  const type = action.type
  if (typeof type !== 'string' || !(FAULT_ACTIONS as readonly string[]).includes(type)) {
    throw invalid('action.type', `must be one of ${FAULT_ACTIONS.join(', ')}`)
  }
  const kind = type as FaultAction['type']
  onlyKeys(action, ['type', ...ACTION_KEYS[kind]], 'action.')
  switch (kind) {
    case 'delay': {
      if (action.ms !== undefined) {
        if (action.minMs !== undefined || action.maxMs !== undefined) throw invalid('action.ms', 'goes alone: give either ms or minMs and maxMs')
        return { type: 'delay', ms: integer(action.ms, 'action.ms', 0, MAX_MS) }
      }
      if (action.minMs === undefined || action.maxMs === undefined) throw invalid(action.minMs === undefined ? 'action.minMs' : 'action.maxMs', 'is required: give either ms or minMs and maxMs')
      const minMs = integer(action.minMs, 'action.minMs', 0, MAX_MS)
      const maxMs = integer(action.maxMs, 'action.maxMs', 0, MAX_MS)
      if (maxMs < minMs) throw invalid('action.maxMs', 'must not be less than minMs')
      return { type: 'delay', minMs, maxMs }
    }
    case 'error': {
      if (action.status === undefined) throw invalid('action.status', 'is required: an HTTP status from 400 to 599')
      const out: FaultAction = { type: 'error', status: integer(action.status, 'action.status', 400, 599) }
      if (action.message !== undefined) {
        if (typeof action.message !== 'string' || action.message.length > 1000) throw invalid('action.message', 'must be a string of at most 1000 characters')
        out.message = action.message
      }
      return out
    }
    case 'reset': return { type: 'reset' }
    case 'empty': return { type: 'empty' }
    case 'dribble':
      return {
        type: 'dribble',
        chunkBytes: action.chunkBytes === undefined ? 16 : integer(action.chunkBytes, 'action.chunkBytes', 1, 1_048_576),
        intervalMs: action.intervalMs === undefined ? 100 : integer(action.intervalMs, 'action.intervalMs', 1, MAX_MS)
      }
  }
}

function object (value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new KrakenError('Validation', `${field} must be an object`, [{ field, message: 'must be an object' }])
  }
  return value as Record<string, unknown>
}

function onlyKeys (value: Record<string, unknown>, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(prefix + key, `is not allowed here (expected ${allowed.join(', ')})`)
  }
}

function integer (value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(field, `must be a whole number from ${min} to ${max}`)
  return value
}
