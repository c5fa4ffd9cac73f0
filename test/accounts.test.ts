// Accounts (kraken-api.md section 2): CRUD by Administrators, visibility by role, name and
// password rules, the last Active Administrator, live sessions following account changes, the
// brute-force lockout shown as Locked, and PUT .../password.
import t from 'tap'
import type { KrakenApp } from '../src/app.ts'
import { makeApp, login, call, envelopeOf, USERS, PASSWORD } from './helpers/app.ts'

const API = '/apis/v2'
const STRONG = 'Str0ng!Passw0rd#1'
const STRONG2 = 'An0ther!Passw0rd#2'

type Account = { name: string, role: string, state: string }

async function setup (config = {}): Promise<{ app: KrakenApp, admin: string }> {
  const app = await makeApp({ fixture: 'empty', ...config })
  return { app, admin: await login(app) }
}

async function loginStatus (app: KrakenApp, username: string, password: string): Promise<number> {
  const res = await app.inject({ method: 'POST', url: `${API}/login`, payload: { username, password } })
  return res.statusCode
}

async function sessionStatus (app: KrakenApp, cookie: string): Promise<number> {
  return (await call(app, cookie, 'GET', `${API}/session`)).statusCode
}

t.test('lists and items never show a password or its hash', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  for (const url of [`${API}/accounts`, `${API}/accounts?full=true`, `${API}/accounts/account-haiadmin`, `${API}/accounts/haiadmin`]) {
    const res = await call(app, admin, 'GET', url)
    t.equal(res.statusCode, 200, url)
    t.notMatch(res.body, /password|scrypt/, `${url} leaks nothing`)
  }
  const list = (await call(app, admin, 'GET', `${API}/accounts`)).json() as { account_list: Account[] }
  t.same(list.account_list, [
    { name: 'haiadmin', role: 'Administrator', state: 'Active' },
    { name: 'operator', role: 'Operator', state: 'Active' },
    { name: 'user', role: 'Viewer', state: 'Active' }
  ])
})

t.test('Operators read every account; Viewers only their own; only Administrators write', async t => {
  const { app } = await setup()
  t.teardown(() => app.close())
  const operator = await login(app, USERS.Operator)
  const viewer = await login(app, USERS.Viewer)

  const names = async (cookie: string) => ((await call(app, cookie, 'GET', `${API}/accounts`)).json() as { account_list: Account[] }).account_list.map(a => a.name)
  t.same(await names(operator), ['haiadmin', 'operator', 'user'])
  t.same(await names(viewer), ['user'], 'a Viewer lists only itself')

  t.equal((await call(app, viewer, 'GET', `${API}/accounts/account-user`)).statusCode, 200)
  const other = await call(app, viewer, 'GET', `${API}/accounts/account-haiadmin`)
  t.equal(other.statusCode, 403)
  t.equal(envelopeOf(other).type, 'SessionAuthorization')
  t.equal((await call(app, operator, 'GET', `${API}/accounts/account-haiadmin`)).statusCode, 200)

  for (const [cookie, role] of [[operator, 'Operator'], [viewer, 'Viewer']] as const) {
    const create = await call(app, cookie, 'POST', `${API}/accounts`, { name: 'x', role: 'Viewer', password: STRONG })
    t.equal(create.statusCode, 403, `${role} may not create`)
    t.equal(envelopeOf(create).type, 'SessionAuthorization')
    t.equal((await call(app, cookie, 'PUT', `${API}/accounts/account-user`, { state: 'Disabled' })).statusCode, 403, `${role} may not change`)
    t.equal((await call(app, cookie, 'DELETE', `${API}/accounts/account-user`)).statusCode, 403, `${role} may not delete`)
  }
  t.equal(app.kraken.store.list('accounts').length, 3, 'nothing changed')
})

t.test('create: Disabled by default, 201 with Location, password hashed and usable once Active', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const res = await call(app, admin, 'POST', `${API}/accounts`, { name: 'alice', role: 'Operator', password: STRONG })
  t.equal(res.statusCode, 201)
  t.equal(res.headers.location, `${API}/accounts/account-alice`)
  t.same(res.json(), { name: 'alice', role: 'Operator', state: 'Disabled' })
  const stored = app.kraken.store.get('accounts', 'alice')
  t.match(stored, { name: 'alice', role: 'Operator', state: 'Disabled', password_hash: /^scrypt\$/ })
  t.notOk(stored !== undefined && 'password' in stored, 'the plain password is never stored')

  t.equal(await loginStatus(app, 'alice', STRONG), 401, 'a Disabled account cannot log in')
  const activate = await call(app, admin, 'PUT', `${API}/accounts/account-alice`, { state: 'Active' })
  t.equal(activate.statusCode, 200)
  t.same(activate.json(), { name: 'alice', role: 'Operator', state: 'Active' })
  t.equal(await loginStatus(app, 'alice', STRONG), 204)

  const explicit = await call(app, admin, 'POST', `${API}/accounts`, { name: 'bob', role: 'Viewer', state: 'Active', password: STRONG })
  t.equal(explicit.statusCode, 201)
  t.equal((explicit.json() as Account).state, 'Active', 'the body may say Active')
})

t.test('create refuses bad names, missing fields, weak passwords and duplicates', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const refuse = async (body: Record<string, unknown>, status: number, field: string, label: string) => {
    const res = await call(app, admin, 'POST', `${API}/accounts`, body)
    t.equal(res.statusCode, status, label)
    t.ok(envelopeOf(res).details.some(d => d.field === field), `${label}: names ${field} (${res.body})`)
  }
  for (const bad of ['/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', ' ', '\t']) {
    await refuse({ name: `a${bad}b`, role: 'Viewer', password: STRONG }, 400, 'name', `name with ${JSON.stringify(bad)}`)
  }
  await refuse({ name: 'a'.repeat(33), role: 'Viewer', password: STRONG }, 400, 'name', '33 characters')
  await refuse({ name: '', role: 'Viewer', password: STRONG }, 400, 'name', 'empty name')
  await refuse({ role: 'Viewer', password: STRONG }, 400, 'name', 'no name')
  await refuse({ name: 'carol', password: STRONG }, 400, 'role', 'no role')
  await refuse({ name: 'carol', role: 'Root', password: STRONG }, 400, 'role', 'unknown role')
  await refuse({ name: 'carol', role: 'Viewer', state: 'Sleeping', password: STRONG }, 400, 'state', 'unknown state')
  await refuse({ name: 'carol', role: 'Viewer' }, 400, 'password', 'no password')
  await refuse({ name: 'carol', role: 'Viewer', password: STRONG, email: 'c@x' }, 400, 'email', 'unknown field')
  await refuse({ name: 'carol', role: 'Viewer', password_hash: 'scrypt$1' }, 400, 'password_hash', 'the hash is not writable')
  for (const [weak, why] of [['Sh0rt!', 'too short'], ['alllowercase1!xyz', 'no upper case'], ['ALLUPPERCASE1!XYZ', 'no lower case'],
    ['NoDigitsHere!xyz', 'no digit'], ['NoSpecials123xyz', 'no special'], ['Aa1!' + 'x'.repeat(77), 'over 80']]) {
    await refuse({ name: 'carol', role: 'Viewer', password: weak }, 400, 'password', `weak password: ${why}`)
  }
  await refuse({ name: 'operator', role: 'Viewer', password: STRONG }, 409, 'name', 'duplicate name')
  t.equal(app.kraken.store.list('accounts').length, 3, 'nothing was created')

  const longest = 'a'.repeat(32)
  t.equal((await call(app, admin, 'POST', `${API}/accounts`, { name: longest, role: 'Viewer', password: STRONG })).statusCode, 201, '32 characters is fine')
  t.equal((await call(app, admin, 'POST', `${API}/accounts`, { name: 'd.o-t_s@home', role: 'Viewer', password: STRONG })).statusCode, 201, 'other punctuation is fine')
})

t.test('--password-policy off accepts any non-empty password', async t => {
  const { app, admin } = await setup({ passwordPolicy: false })
  t.teardown(() => app.close())
  const res = await call(app, admin, 'POST', `${API}/accounts`, { name: 'weak', role: 'Viewer', state: 'Active', password: 'abc' })
  t.equal(res.statusCode, 201)
  t.equal(await loginStatus(app, 'weak', 'abc'), 204)
})

t.test('PUT merges, keeps the password, refuses a rename and accepts a GET-edit-PUT round trip', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const got = (await call(app, admin, 'GET', `${API}/accounts/account-operator`)).json() as Account
  const same = await call(app, admin, 'PUT', `${API}/accounts/account-operator`, got)
  t.equal(same.statusCode, 200, 'round trip')
  t.same(same.json(), got)

  const renamed = await call(app, admin, 'PUT', `${API}/accounts/account-operator`, { name: 'op2' })
  t.equal(renamed.statusCode, 400)
  t.equal(envelopeOf(renamed).details[0]?.field, 'name')
  t.ok(app.kraken.store.get('accounts', 'operator') !== undefined && app.kraken.store.get('accounts', 'op2') === undefined, 'not renamed')

  const demoted = await call(app, admin, 'PUT', `${API}/accounts/operator`, { role: 'Viewer' })
  t.same(demoted.json(), { name: 'operator', role: 'Viewer', state: 'Active' })
  t.equal(await loginStatus(app, 'operator', PASSWORD), 204, 'the password is kept when not sent')

  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-nobody`, { role: 'Viewer' })).statusCode, 404)
  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-operator`, { password: 'weak' })).statusCode, 400, 'policy on PUT too')
  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-operator`, { password: STRONG })).statusCode, 200)
  t.equal(await loginStatus(app, 'operator', STRONG), 204, 'an Administrator may set a password by PUT')
  t.equal(await loginStatus(app, 'operator', PASSWORD), 401)
})

t.test('the last Active Administrator cannot be deleted, disabled, locked or demoted', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  for (const [method, body, field] of [
    ['DELETE', undefined, 'name'],
    ['PUT', { role: 'Operator' }, 'role'],
    ['PUT', { state: 'Disabled' }, 'state'],
    ['PUT', { state: 'Locked' }, 'state']
  ] as const) {
    const res = await call(app, admin, method, `${API}/accounts/account-haiadmin`, body)
    t.equal(res.statusCode, 409, `${method} ${JSON.stringify(body)}`)
    t.equal(envelopeOf(res).type, 'Conflict')
    t.equal(envelopeOf(res).details[0]?.field, field)
  }
  t.match(app.kraken.store.get('accounts', 'haiadmin'), { role: 'Administrator', state: 'Active' })

  // A Disabled Administrator does not count.
  await call(app, admin, 'POST', `${API}/accounts`, { name: 'admin2', role: 'Administrator', password: STRONG })
  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-haiadmin`, { role: 'Operator' })).statusCode, 409, 'admin2 is Disabled')

  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-admin2`, { state: 'Active' })).statusCode, 200)
  const demoted = await call(app, admin, 'PUT', `${API}/accounts/account-haiadmin`, { role: 'Operator' })
  t.equal(demoted.statusCode, 200, 'with another Active Administrator haiadmin may step down')
  const forbidden = await call(app, admin, 'POST', `${API}/accounts`, { name: 'z', role: 'Viewer', password: STRONG })
  t.equal(forbidden.statusCode, 403, 'the live session lost the Administrator role at once')

  const admin2 = await login(app, 'admin2', STRONG)
  t.equal((await call(app, admin2, 'DELETE', `${API}/accounts/account-admin2`)).statusCode, 409, 'now admin2 is the last one')
  t.equal((await call(app, admin2, 'DELETE', `${API}/accounts/account-haiadmin`)).statusCode, 204, 'a non-Administrator may be deleted')
})

t.test('live sessions follow role, state and deletion', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const operator = await login(app, USERS.Operator)
  const viewer = await login(app, USERS.Viewer)

  // Promotion takes effect without a new login.
  t.equal((await call(app, viewer, 'GET', `${API}/accounts`)).json().account_list.length, 1)
  await call(app, admin, 'PUT', `${API}/accounts/account-user`, { role: 'Operator' })
  t.equal((await call(app, viewer, 'GET', `${API}/accounts`)).json().account_list.length, 3, 'the promoted session reads every account')

  // Disabling ends the sessions; enabling again does not revive them.
  await call(app, admin, 'PUT', `${API}/accounts/account-operator`, { state: 'Disabled' })
  t.equal(await sessionStatus(app, operator), 401, 'disabled: session ended')
  t.equal(await loginStatus(app, 'operator', PASSWORD), 401, 'disabled: login refused')
  await call(app, admin, 'PUT', `${API}/accounts/account-operator`, { state: 'Active' })
  t.equal(await sessionStatus(app, operator), 401, 'the old session stays ended')
  t.equal(await loginStatus(app, 'operator', PASSWORD), 204)

  t.equal((await call(app, admin, 'DELETE', `${API}/accounts/user`)).statusCode, 204)
  t.equal(await sessionStatus(app, viewer), 401, 'deleted: session ended')
  t.equal(await loginStatus(app, 'user', PASSWORD), 401)
  t.equal(await sessionStatus(app, admin), 200, 'other users keep their sessions')
})

t.test('a brute-force lockout shows as Locked and an Administrator setting Active lifts it', async t => {
  const { app, admin } = await setup({ lockoutAttempts: 2, lockoutSeconds: 300 })
  t.teardown(() => app.close())
  for (let i = 0; i < 2; i++) t.equal(await loginStatus(app, 'user', 'wrong'), 401)
  t.equal(await loginStatus(app, 'user', PASSWORD), 401, 'locked out')
  const got = (await call(app, admin, 'GET', `${API}/accounts/account-user`)).json() as Account
  t.equal(got.state, 'Locked')
  t.equal(app.kraken.store.get('accounts', 'user')?.state, 'Active', 'the lockout is not stored: it ends by itself')

  // Sending the shown state back unchanged (GET-edit-PUT) does not lock the account for good.
  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-user`, { ...got, role: 'Viewer' })).statusCode, 200)
  t.equal(app.kraken.store.get('accounts', 'user')?.state, 'Active')
  t.equal(await loginStatus(app, 'user', PASSWORD), 401, 'still locked out')

  const unlocked = await call(app, admin, 'PUT', `${API}/accounts/account-user`, { state: 'Active' })
  t.equal((unlocked.json() as Account).state, 'Active')
  t.equal(await loginStatus(app, 'user', PASSWORD), 204, 'Active lifted the lockout')
})

t.test('an Administrator may lock an account for good', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const viewer = await login(app, USERS.Viewer)
  const res = await call(app, admin, 'PUT', `${API}/accounts/account-user`, { state: 'Locked' })
  t.equal((res.json() as Account).state, 'Locked')
  t.equal(await sessionStatus(app, viewer), 401)
  t.equal(await loginStatus(app, 'user', PASSWORD), 401)
})

t.test('PUT .../password: own account with the current password', async t => {
  const { app } = await setup()
  t.teardown(() => app.close())
  const viewer = await login(app, USERS.Viewer)
  const otherDevice = await login(app, USERS.Viewer)
  const url = `${API}/accounts/account-user/password`

  const missing = await call(app, viewer, 'PUT', url, { new_password: STRONG })
  t.equal(missing.statusCode, 400)
  t.equal(envelopeOf(missing).details[0]?.field, 'current_password')
  const wrong = await call(app, viewer, 'PUT', url, { current_password: 'nope', new_password: STRONG })
  t.equal(wrong.statusCode, 400)
  t.equal(envelopeOf(wrong).details[0]?.field, 'current_password')
  const weak = await call(app, viewer, 'PUT', url, { current_password: PASSWORD, new_password: 'short' })
  t.equal(weak.statusCode, 400)
  t.equal(envelopeOf(weak).details[0]?.field, 'new_password')
  t.equal((await call(app, viewer, 'PUT', url, { current_password: PASSWORD, new_password: STRONG, extra: 1 })).statusCode, 400, 'unknown field')
  t.equal(await loginStatus(app, 'user', PASSWORD), 204, 'refused changes changed nothing')

  const ok = await call(app, viewer, 'PUT', `${API}/accounts/user/password`, { current_password: PASSWORD, new_password: STRONG })
  t.equal(ok.statusCode, 204, 'the bare-name path works too')
  t.equal(ok.body, '')
  t.equal(await loginStatus(app, 'user', PASSWORD), 401, 'the old password is gone')
  t.equal(await loginStatus(app, 'user', STRONG), 204)
  t.equal(await sessionStatus(app, viewer), 200, 'the caller keeps its session')
  t.equal(await sessionStatus(app, otherDevice), 401, 'the user\'s other sessions end')
})

t.test('PUT .../password: others\' accounts only for Administrators, current password optional', async t => {
  const { app, admin } = await setup()
  t.teardown(() => app.close())
  const operator = await login(app, USERS.Operator)
  const viewer = await login(app, USERS.Viewer)

  for (const [cookie, role] of [[operator, 'Operator'], [viewer, 'Viewer']] as const) {
    const res = await call(app, cookie, 'PUT', `${API}/accounts/account-haiadmin/password`, { current_password: PASSWORD, new_password: STRONG })
    t.equal(res.statusCode, 403, `${role} may not change another's password`)
    t.equal(envelopeOf(res).type, 'SessionAuthorization')
  }
  t.equal(await loginStatus(app, 'haiadmin', PASSWORD), 204, 'unchanged')

  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-nobody/password`, { new_password: STRONG })).statusCode, 404)
  const wrong = await call(app, admin, 'PUT', `${API}/accounts/account-user/password`, { current_password: 'nope', new_password: STRONG })
  t.equal(wrong.statusCode, 400, 'a current password given is checked, even for an Administrator')

  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-user/password`, { new_password: STRONG2 })).statusCode, 204)
  t.equal(await sessionStatus(app, viewer), 401, 'every session of the user ends')
  t.equal(await loginStatus(app, 'user', STRONG2), 204)
  t.equal(await sessionStatus(app, admin), 200, 'the Administrator keeps its session')

  t.equal((await call(app, admin, 'PUT', `${API}/accounts/account-haiadmin/password`, { new_password: STRONG })).statusCode, 204, 'an Administrator needs no current password for its own')
  t.equal(await loginStatus(app, 'haiadmin', STRONG), 204)
})
