import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import { FixtureError, loadFixture } from '../fixtures.ts'
import { CaptureError, readCapture } from './capture-format.ts'
import { fixtureFromCapture, writeFixtureFolder } from './capture-fixture.ts'
import { captureSecretFields, deviceGetRoutes, modelApp } from './known-routes.ts'
import { readBaseline, writeBaseline } from './baseline.ts'
import { runParity } from './parity.ts'
import { htmlReport, markdownReport, summaryText } from './parity-report.ts'
import { startRecordProxy } from './record-proxy.ts'
import { Recorder } from './recorder.ts'
import { SecretMasker } from './secret-masker.ts'
import { walkDevice } from './walk.ts'

/** The subcommands this folder adds to the command line. */
export const CAPTURE_COMMANDS: readonly string[] = ['record', 'import-capture', 'parity']

export interface CommandIo {
  out: (text: string) => void
  err: (text: string) => void
  /** Resolves when a recording proxy should stop (Ctrl-C, SIGTERM). */
  stop: () => Promise<void>
}

const processIo: CommandIo = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text),
  stop: () => new Promise(resolve => {
    process.once('SIGINT', () => resolve())
    process.once('SIGTERM', () => resolve())
  })
}

function port (raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new InvalidArgumentError('expected a whole number from 0 to 65535')
  return Number(raw)
}

/**
 * Runs `record`, `import-capture` or `parity` (argv starts with the subcommand). Resolves with
 * the exit status: 0 done, 1 parity found differences the baseline does not list, 2 bad usage or
 * a file or device problem.
 */
export async function runCaptureCommand (argv: readonly string[], io: CommandIo = processIo): Promise<number> {
  let status = 0
  let usage = ''
  const program = new Command('kraken-emulator').exitOverride()
    .configureOutput({ writeOut: s => io.out(s), writeErr: s => { usage += s } })
    .helpOption('-h, --help', 'show this help')
  program.command('record').description('record a real Kraken: a proxy a client talks through, or --walk to read every GET endpoint')
    .requiredOption('--target <url>', 'the device, https://<host>[:port]')
    .requiredOption('--out <file>', 'the capture file to write (rewritten after every exchange)')
    .option('--insecure', 'accept the device\'s certificate without verifying it (self-signed devices)')
    .option('--host <address>', 'address the proxy listens on', '127.0.0.1')
    .addOption(new Option('--port <n>', 'port the proxy listens on (0 picks one)').default(8443).argParser(port))
    .option('--walk', 'no client: log in and read every GET endpoint the emulator knows, then log out')
    .option('--username <name>', 'account --walk logs in with', 'haiadmin')
    .option('--password <password>', 'its password (--walk)')
    .action(async (o: { target: string, out: string, insecure?: boolean, host: string, port: number, walk?: boolean, username: string, password?: string }) => {
      status = await record(o, io)
    })
  program.command('import-capture').description('build a fixture from a capture')
    .argument('<capture>', 'the capture file')
    .requiredOption('--fixture <name>', 'the fixture\'s name: written to fixtures/<name>/ (or --dir)')
    .option('--dir <folder>', 'where to write the fixture folder (default: fixtures/<name>)')
    .action(async (file: string, o: { fixture: string, dir?: string }) => {
      status = await importCapture(file, o, io)
    })
  program.command('parity').description('replay a capture against a fresh emulator and report every difference from the device')
    .argument('<capture>', 'the capture file')
    .option('--baseline <file>', 'differences already known: only others make the exit status 1')
    .option('--write-baseline', 'write the differences found to the --baseline file (and exit 0)')
    .option('--markdown <file>', 'the Markdown report', 'parity-report.md')
    .option('--html <file>', 'also an HTML report, device and emulator side by side')
    .action(async (file: string, o: { baseline?: string, writeBaseline?: boolean, markdown: string, html?: string }) => {
      status = await parity(file, o, io)
    })
  try {
    await program.parseAsync(['node', 'kraken-emulator', ...argv])
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'commander.helpDisplayed' || code === 'commander.help') return 0
    if (code?.startsWith('commander.') === true) {
      io.err(`kraken-emulator: ${(usage.trim().split('\n')[0] ?? String(error)).replace(/^error: /, '')}\n`)
      return 2
    }
    // A file, a device or a fixture problem: one line. Anything else is a bug and keeps its stack.
    if (error instanceof CaptureError || error instanceof FixtureError || typeof (error as NodeJS.ErrnoException).code === 'string') {
      io.err(`kraken-emulator ${argv[0] ?? ''}: ${(error as Error).message.replace(/\s*[\r\n]+\s*/g, ' ')}\n`)
      return 2
    }
    throw error
  }
  return status
}

async function record (o: { target: string, out: string, insecure?: boolean, host: string, port: number, walk?: boolean, username: string, password?: string }, io: CommandIo): Promise<number> {
  if (o.walk === true && o.password === undefined) throw new CaptureError('--walk needs --password')
  const model = await modelApp()
  let recorder: Recorder
  try {
    if (!/^https:\/\/[^/]+/.test(o.target)) throw new CaptureError(`--target must be an https:// URL (found ${o.target})`)
    recorder = new Recorder(o.target, { insecure: o.insecure === true, out: o.out, masker: new SecretMasker(captureSecretFields(model)), mode: o.walk === true ? 'walk' : 'proxy' })
    if (o.walk === true) {
      try {
        const reads = await walkDevice(recorder, { username: o.username, password: o.password!, routes: deviceGetRoutes(model) })
        io.out(`kraken-emulator record: read ${reads} GET endpoints of ${recorder.capture.target}; ${recorder.capture.exchanges.length} exchanges written to ${o.out}\n`)
      } finally {
        recorder.close()
      }
      return 0
    }
  } finally {
    await model.close()
  }
  const proxy = await startRecordProxy(recorder, { host: o.host, port: o.port, onError: message => io.err(`kraken-emulator record: ${message}\n`) })
  const stopped = io.stop()
  io.out(`kraken-emulator record: point your client at ${proxy.url}; recording ${recorder.capture.target} into ${o.out}; Ctrl-C to stop\n`)
  await stopped
  await proxy.close()
  recorder.close()
  io.out(`kraken-emulator record: ${recorder.capture.exchanges.length} exchanges written to ${o.out}\n`)
  return 0
}

async function importCapture (file: string, o: { fixture: string, dir?: string }, io: CommandIo): Promise<number> {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(o.fixture)) throw new CaptureError(`fixture name '${o.fixture}' is not valid (letters, digits, - and _)`)
  const capture = readCapture(file)
  const dir = o.dir ?? path.join('fixtures', o.fixture)
  if (existsSync(dir)) throw new CaptureError(`${dir} exists already: remove it or choose another --fixture or --dir`)
  const model = await modelApp()
  try {
    const fixture = fixtureFromCapture(capture, model)
    writeFixtureFolder(dir, fixture, `${o.fixture}: imported from a capture of ${capture.target} (${capture.started})`)
    loadFixture(dir.includes('/') || dir.includes(path.sep) ? dir : `./${dir}`)
    const objects = Object.entries(fixture.collections).map(([c, items]) => `${items.length} ${c}`).join(', ')
    io.out(`kraken-emulator import-capture: fixture written to ${dir} (${objects || 'no objects'}; singletons: ${Object.keys(fixture.singletons).join(', ') || 'none'})\n`)
    if (fixture.unrepresented.length > 0) {
      io.out(`not represented (${fixture.unrepresented.length}, also listed in ${path.join(dir, 'fixture.json')}):\n${fixture.unrepresented.map(u => `  - ${u}\n`).join('')}`)
    }
    io.out(`start it with: kraken-emulator --fixture ${dir}\n`)
  } finally {
    await model.close()
  }
  return 0
}

async function parity (file: string, o: { baseline?: string, writeBaseline?: boolean, markdown: string, html?: string }, io: CommandIo): Promise<number> {
  if (o.writeBaseline === true && o.baseline === undefined) throw new CaptureError('--write-baseline needs --baseline <file>')
  const capture = readCapture(file)
  const known = o.baseline !== undefined && o.writeBaseline !== true ? readBaseline(o.baseline) : new Set<string>()
  const model = await modelApp()
  let result
  try {
    result = await runParity(capture, model)
  } finally {
    await model.close()
  }
  if (o.writeBaseline === true) writeBaseline(o.baseline!, result.differences)
  const accepted = o.writeBaseline === true ? new Set(result.differences.map(d => d.id)) : known
  writeFileSync(o.markdown, markdownReport(result, accepted))
  if (o.html !== undefined) writeFileSync(o.html, htmlReport(result, accepted))
  io.out(summaryText(result, accepted))
  io.out(`report: ${o.markdown}${o.html === undefined ? '' : `, ${o.html}`}${o.writeBaseline === true ? `; baseline written to ${o.baseline!}` : ''}\n`)
  return result.differences.some(d => !accepted.has(d.id)) ? 1 : 0
}
