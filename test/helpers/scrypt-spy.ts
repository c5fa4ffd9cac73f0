import crypto from 'node:crypto'
import { syncBuiltinESMExports } from 'node:module'

type ScryptArgs = [password: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, options: crypto.ScryptOptions, callback: (err: Error | null, key: Buffer) => void]

export interface ScryptSpy {
  /** The salt (base64) of every scrypt computation started since the spy was installed or reset. */
  readonly salts: string[]
  /** From now on, computations wait (are not started) until `release()`: the hasher is held. */
  hold: () => void
  /** Starts every held computation, in order, and stops holding. */
  release: () => void
  /** How many computations are being held. */
  readonly held: number
  reset: () => void
  restore: () => void
}

/**
 * Replaces node:crypto's scrypt, for the whole process, with one that records each computation's
 * salt and can hold computations back: tests count the hashes a burst of logins costs (and whose
 * password they check: a stored hash carries its salt) and hold the hasher without timing.
 * `syncBuiltinESMExports` makes `import { scrypt } from 'node:crypto'` see the replacement.
 */
export function spyScrypt (): ScryptSpy {
  const original = crypto.scrypt
  const salts: string[] = []
  let waiting: Array<() => void> | undefined
  const replacement = (...args: ScryptArgs): void => {
    const [password, salt, keylen, options, callback] = args
    salts.push(Buffer.from(salt as Buffer).toString('base64'))
    const start = () => original(password, salt, keylen, options, callback)
    if (waiting === undefined) start()
    else waiting.push(start)
  }
  // scrypt is overloaded; the emulator always calls the five-argument form.
  crypto.scrypt = replacement as typeof crypto.scrypt
  syncBuiltinESMExports()
  return {
    salts,
    hold: () => { waiting ??= [] },
    release: () => {
      const held = waiting ?? []
      waiting = undefined
      for (const start of held) start()
    },
    get held () { return waiting?.length ?? 0 },
    reset: () => { salts.length = 0 },
    restore: () => {
      crypto.scrypt = original
      syncBuiltinESMExports()
    }
  }
}

/** The salt (base64) of a stored `scrypt$N$r$p$salt$hash` string. */
export function saltOf (stored: unknown): string {
  const salt = String(stored).split('$')[4]
  if (salt === undefined) throw new Error('not a stored scrypt hash')
  return salt
}
