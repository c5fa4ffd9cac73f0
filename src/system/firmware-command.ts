import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { writeFile } from 'node:fs/promises'
import { packFirmware, VERSION_PATTERN } from './firmware-package.ts'

/**
 * `kraken-emulator firmware pack --version V`: writes a test upgrade package (firmware-package.ts's
 * format), or with `--body` the JSON body that uploads it. Returns the exit code; writes its
 * messages to the given streams.
 */
export async function firmwareCommand (argv: readonly string[], out: { stdout: (s: string) => void, stderr: (s: string) => void }): Promise<number> {
  let output = ''
  const program = new Command('kraken-emulator firmware')
    .exitOverride()
    .configureOutput({ writeOut: s => { output += s }, writeErr: s => { output += s } })
  let done: Promise<void> = Promise.resolve()
  program.command('pack')
    .description('write a firmware upgrade package for the emulator (a tar.gz with manifest.json)')
    .requiredOption('--version <version>', 'the version it installs, e.g. 4.3.0.1', (v: string) => {
      if (!new RegExp(VERSION_PATTERN).test(v)) throw new InvalidArgumentError('must be 2 to 4 dotted numbers, e.g. 4.3.0.1')
      return v
    })
    .option('--notes <text>', 'release notes kept in the manifest')
    .option('--product <name>', 'the product it is for (another than Kraken makes a package the device refuses)')
    .option('--out <file>', 'where to write it (default: kraken-firmware-<version>.tar.gz, or .json with --body)')
    .option('--body', 'write the JSON upload body {"package": "<base64>"} for POST /apis/v2/system/firmware instead')
    .action((options: { version: string, notes?: string, product?: string, out?: string, body?: boolean }) => {
      done = (async () => {
        const bytes = await packFirmware({ version: options.version, ...(options.notes !== undefined && { notes: options.notes }), ...(options.product !== undefined && { product: options.product }) })
        const file = options.out ?? `kraken-firmware-${options.version}.${options.body === true ? 'json' : 'tar.gz'}`
        await writeFile(file, options.body === true ? JSON.stringify({ package: bytes.toString('base64') }) + '\n' : bytes)
        out.stdout(`${file}: firmware ${options.version} (${bytes.length} bytes)\n`)
      })()
    })
  try {
    await program.parseAsync([...argv], { from: 'user' })
    await done
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) {
        out.stdout(output)
        return 0
      }
      out.stderr(output === '' ? `${error.message}\n` : output)
      return 2
    }
    out.stderr(`kraken-emulator firmware: ${(error as Error).message}\n`)
    return 1
  }
  return 0
}
