import t from 'tap'
import { clientOf, json, runCli, startCli, tempDir } from './helpers/cli.ts'
import type { Ready } from './helpers/cli.ts'
import { readFileSync } from 'node:fs'
import path from 'node:path'

// Real devices listen on 443 and one field client hard-codes https://<host>/apis/v2/login with no
// port (kraken-api.md section 1): `--port 443` must work when the emulator may bind it (root, as in
// CI and in a container), and must fail with one clear line when it may not.
const root = process.getuid?.() === 0

t.test('--port 443', async t => {
  const dir = await tempDir(t)
  const args = ['--port', '443', '--print-ready', 'json', '--in-memory', '--certs', path.join(dir, 'certs'), '--log-level', 'warn']
  if (root) {
    const cli = await startCli(t, args)
    const ready = JSON.parse(cli.line) as Ready
    t.equal(ready.port, 443)
    t.equal(ready.url, 'https://127.0.0.1:443')
    const client = clientOf(ready, readFileSync(path.join(dir, 'certs', 'cert.pem'), 'utf8'))
    const login = await json(client, 'POST', '/apis/v2/login', { body: { username: 'haiadmin', password: 'krakenapi' } })
    t.equal(login.status, 204, 'a client that names no port reaches the emulator')
    t.equal((await cli.stop()).code, 0)
  } else {
    const run = await runCli(args)
    t.equal(run.code, 2, 'without the right to bind 443 the start fails')
    t.equal(run.stderr.trim().split('\n').length, 1, 'with one line')
    t.match(run.stderr, /EACCES|permission/i)
  }
})
