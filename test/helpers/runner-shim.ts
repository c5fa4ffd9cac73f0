// The slice of the vitest / @jest/globals API that examples/*.example.mjs use, mapped onto
// node:test and node:assert, so test/fixture-api.test.ts can run those examples. It checks the
// examples' logic against the emulator; it is not vitest or jest (see docs/test-fixture.md).
import assert from 'node:assert/strict'
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'

export { after as afterAll, afterEach, before as beforeAll, beforeEach, describe, test, test as it }

interface Matchers {
  toBe: (expected: unknown) => void
  toEqual: (expected: unknown) => void
  toContain: (expected: unknown) => void
}

function includes (actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string') return actual.includes(String(expected))
  if (Array.isArray(actual)) return actual.includes(expected)
  throw new TypeError(`toContain expects a string or an array, got ${typeof actual}`)
}

export function expect (actual: unknown): Matchers & { not: Matchers } {
  return {
    toBe: expected => assert.equal(actual, expected),
    toEqual: expected => assert.deepEqual(actual, expected),
    toContain: expected => assert.ok(includes(actual, expected), `expected ${JSON.stringify(actual)} to contain ${JSON.stringify(expected)}`),
    not: {
      toBe: expected => assert.notEqual(actual, expected),
      toEqual: expected => assert.notDeepEqual(actual, expected),
      toContain: expected => assert.ok(!includes(actual, expected), `expected ${JSON.stringify(actual)} not to contain ${JSON.stringify(expected)}`)
    }
  }
}
