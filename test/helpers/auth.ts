import t from 'tap'
import type { KrakenApp } from '../../src/app.ts'
import type { HttpResult } from './https.ts'

/** The type of the `t` a subtest callback receives (tap's overloads make it awkward to name). */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

/** Every Set-Cookie line of a response, in order. */
export function setCookiesOf (res: Pick<HttpResult, 'headers'>): string[] {
  return ([] as string[]).concat(res.headers['set-cookie'] ?? [])
}

/** The session id a login response set, or a thrown error. */
export function sessionIdOf (res: Pick<HttpResult, 'headers' | 'status'>): string {
  const id = setCookiesOf(res).map(c => /^id=([^;]+)/.exec(c)?.[1]).find(v => v !== undefined)
  if (id === undefined) throw new Error(`no id cookie in a ${res.status} response`)
  return id
}

/** Changes an account's state behind the API (the accounts routes are tested elsewhere). */
export async function setAccountState (app: KrakenApp, name: string, state: 'Active' | 'Locked' | 'Disabled'): Promise<void> {
  const store = app.kraken.store
  const account = store.get('accounts', name)
  if (account === undefined) throw new Error(`no account ${name}`)
  await store.commit([{ op: 'put', collection: 'accounts', id: name, item: { ...account, state } }])
}
