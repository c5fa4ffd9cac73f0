import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto'
import { Limiter } from './limiter.ts'

// One limiter for the process: hashing competes for the same cores whichever emulator asks.
const hashing = new Limiter(2)
const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions, lane?: string): Promise<Buffer> =>
  hashing.run(() => new Promise((resolve, reject) => scryptCb(password, salt, keylen, options, (err, key) => err ? reject(err) : resolve(key))), lane)

// N=2^14, r=8, p=1: the interactive-login parameters recommended for scrypt (about 50 ms here).
const N = 16384
const r = 8
const p = 1
const KEYLEN = 32

/**
 * `device`: the cost above, as a real device's login feels. `fast` (--password-hash fast, for
 * fleets and CI): N=2^10, sixteen times cheaper (a few ms), since a monitoring sweep logs in to
 * every device of a fleet and scrypt would dominate it. A login checks a password at the cost
 * stored with its hash, so the choice applies to the hashes made while it is in force.
 */
export type HashCost = 'device' | 'fast'
const COST_N: Record<HashCost, number> = { device: N, fast: 1024 }

/** Hashes a password as `scrypt$N$r$p$<salt b64>$<hash b64>`; only this string is ever stored. */
export async function hashPassword (password: string, cost: HashCost = 'device'): Promise<string> {
  const salt = randomBytes(16)
  const n = COST_N[cost]
  const hash = await scrypt(password, salt, KEYLEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 })
  return `scrypt$${n}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`
}

/** Checks a password against a stored hash; `lane` is the hashing queue it waits in (see Limiter). */
export async function verifyPassword (password: string, stored: unknown, lane?: string): Promise<boolean> {
  if (typeof stored !== 'string') return false
  const [scheme, n, rr, pp, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || n === undefined || rr === undefined || pp === undefined || salt === undefined || hash === undefined) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(rr), p: Number(pp), maxmem: 64 * 1024 * 1024 }, lane)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/**
 * A stored hash that no password matches (its hash part is 256 random bits, not derived from any
 * password), with the parameters of every real one: checking a password against it costs exactly
 * one hash, so a login for an unknown or locked name takes as long as any other failure. Built
 * without hashing, so the first such login costs one hash too.
 */
export const DUMMY_HASH = dummyHash(N)

/** DUMMY_HASH at the cost given (a login for an unknown name costs what a known one does). */
export function dummyHashFor (cost: HashCost): string {
  return cost === 'device' ? DUMMY_HASH : FAST_DUMMY_HASH
}
const FAST_DUMMY_HASH = dummyHash(COST_N.fast)

function dummyHash (n: number): string {
  return `scrypt$${n}$${r}$${p}$${randomBytes(16).toString('base64')}$${randomBytes(KEYLEN).toString('base64')}`
}

/** The device password policy [docs]: 15-80 chars, lower, upper, digit and one of ! @ # $ % ^ & *. */
export function passwordPolicyProblem (password: string): string | undefined {
  if (password.length < 15 || password.length > 80) return 'must be 15 to 80 characters long'
  if (!/[a-z]/.test(password)) return 'must contain a lower case letter'
  if (!/[A-Z]/.test(password)) return 'must contain an upper case letter'
  if (!/[0-9]/.test(password)) return 'must contain a digit'
  if (!/[!@#$%^&*]/.test(password)) return 'must contain one of ! @ # $ % ^ & *'
  return undefined
}
