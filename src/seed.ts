import type { Config } from './config.ts'
import { dbFromFixture, loadFixture, type Fixture } from './fixtures.ts'
import { hashPassword } from './auth/passwords.ts'
import type { Db, Item } from './kernel/store.ts'

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
      hash = hashPassword(password, this.config.passwordHash)
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
