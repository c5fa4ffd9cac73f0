// --in-memory writes nothing, the certificate included, and --http-port 0 says which port it got
// (issue 20, first-hour friction).
import { readdir } from 'node:fs/promises'
import http from 'node:http'
import t from 'tap'
import { startCli, startCliJson, tempDir } from './helpers/cli.ts'

function redirectOf (port: number): Promise<{ status: number | undefined, location: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/apis/v2/session' }, res => {
      res.resume()
      resolve({ status: res.statusCode, location: res.headers.location })
    }).once('error', reject)
  })
}

t.test('--in-memory writes no file, not even certs/; --http-port 0 is in the JSON ready line', async t => {
  const dir = await tempDir(t)
  const cli = await startCliJson(t, ['--in-memory', '--http-port', '0'], {}, dir)
  const ready = cli.ready as typeof cli.ready & { httpPort?: number }
  t.type(ready.httpPort, 'number', `httpPort in ${cli.line}`)
  t.not(ready.httpPort, 0, 'the real port, not 0')
  const redirect = await redirectOf(ready.httpPort!)
  t.equal(redirect.status, 301, 'the reported port is the redirect')
  t.equal(redirect.location, `https://127.0.0.1:${ready.port}/apis/v2/session`)
  t.equal((await cli.stop('SIGTERM')).code, 0)
  t.same(await readdir(dir), [], 'nothing written where it ran')
})

t.test('the text ready line names the plain HTTP port too', async t => {
  const dir = await tempDir(t)
  const cli = await startCli(t, ['--in-memory', '--port', '0', '--http-port', '0'], {}, dir)
  const port = Number(/ {2}plain HTTP redirect: port (\d+)/.exec(cli.line)?.[1])
  t.ok(port > 0, `the ready line: ${cli.line}`)
  t.equal((await redirectOf(port)).status, 301)
  await cli.stop('SIGTERM')
  t.same(await readdir(dir), [], 'nothing written')
})
