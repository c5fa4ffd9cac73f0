import { createHash } from 'node:crypto'
import type { Config } from './config.ts'
import { dbFromFixture, loadFixture, type Fixture } from './fixtures.ts'
import { hashPassword, type HashCost } from './auth/passwords.ts'
import type { Db, Item } from './kernel/store.ts'

/**
 * Seed hashes for the whole process, by cost and a digest of the password (the process keeps no
 * password after its emulators close): a test suite that starts an emulator
 * per test would otherwise spend three scrypt hashes (about 200 ms) on every start. A hash
 * carries its own salt and parameters, so a memoized one verifies like a fresh one; emulators of
 * one process that seed the same password store the same hash string [ours]. Accounts created or
 * changed through the API are hashed afresh (src/resources/accounts.ts).
 */
const seedHashes = new Map<string, Promise<string>>()
/** Distinct seed passwords kept (a fleet of a thousand devices with their own passwords fits). */
const SEED_HASHES_KEPT = 4096

function seedHash (password: string, cost: HashCost): Promise<string> {
  const key = createHash('sha256').update(`${cost}\0${password}`).digest('base64')
  let hash = seedHashes.get(key)
  if (hash === undefined) {
    if (seedHashes.size >= SEED_HASHES_KEPT) seedHashes.delete(seedHashes.keys().next().value!)
    hash = hashPassword(password, cost)
    seedHashes.set(key, hash)
    // A failed hash is not remembered: the next seed tries again (and sees its own error).
    hash.catch(() => { if (seedHashes.get(key) === hash) seedHashes.delete(key) })
  }
  return hash
}

/**
 * Builds the Db a fixture seeds, hashing passwords once per distinct password (scrypt is slow on
 * purpose, and reset must be fast for test suites that reset before every test).
 */
export class Seeder {
  private readonly hashes = new Map<string, Promise<string>>()
  private readonly fixtures = new Map<string, Fixture>()

  /**
   * `cacheFixtures`: read each fixture once (a fleet seeds a thousand devices from one); by
   * default a fixture is read at each seed, so a reset picks up an edited fixture file.
   */
  constructor (private readonly config: Config, private readonly cacheFixtures = false) {}

  private hash (password: string): Promise<string> {
    let hash = this.hashes.get(password)
    if (hash === undefined) {
      hash = seedHash(password, this.config.passwordHash)
      this.hashes.set(password, hash)
    }
    return hash
  }

  async db (fixtureName: string): Promise<Db> {
    let fixture = this.fixtures.get(fixtureName)
    if (fixture === undefined) {
      fixture = loadFixture(fixtureName)
      if (this.cacheFixtures) this.fixtures.set(fixtureName, fixture)
    }
    const listed = fixture.collections.accounts
    const accounts: Item[] = []
    if (listed === undefined) {
      const c = this.config
      accounts.push(
        { name: 'haiadmin', role: 'Administrator', state: 'Active', password_hash: await this.hash(c.adminPassword) },
        { name: 'operator', role: 'Operator', state: 'Active', password_hash: await this.hash(c.operatorPassword) },
        { name: 'user', role: 'Viewer', state: 'Active', password_hash: await this.hash(c.viewerPassword) }
      )
    } else {
      for (const account of listed) {
        const { password, ...rest } = account
        accounts.push({ state: 'Active', ...rest, password_hash: await this.hash(String(password ?? '')) })
      }
    }
    return dbFromFixture(fixture, accounts)
  }
}
