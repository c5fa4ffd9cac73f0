import { CAPTURE_COMMANDS, runCaptureCommand } from './capture/capture-cli.ts'
import { scenarioCommand } from './scenario-command.ts'
import { firmwareCommand } from './system/firmware-command.ts'
import { runLicenseCommand } from './license-mint.ts'

type Env = Readonly<Record<string, string | undefined>>

/** A command of its own after `kraken-emulator`: a tool beside the emulator, not an emulator. */
export interface Subcommand {
  name: string
  aliases: readonly string[]
  /** One line for the main --help. */
  summary: string
  /** Runs with the arguments after the name; resolves with the exit status. */
  run: (args: readonly string[], env: Env) => Promise<number>
}

const stdio = { stdout: (text: string) => { process.stdout.write(text) }, stderr: (text: string) => { process.stderr.write(text) } }

const CAPTURE_SUMMARIES: Record<string, string> = {
  record: 'record a real Kraken through a proxy, or --walk its GET endpoints',
  'import-capture': 'build a fixture from a capture',
  parity: 'replay a capture against a fresh emulator and report every difference'
}

export const SUBCOMMANDS: readonly Subcommand[] = [
  { name: 'scenario', aliases: [], summary: 'play a scenario on a running emulator', run: async (args, env) => await scenarioCommand(args, env, process.stdout, process.stderr) },
  { name: 'licence', aliases: ['license'], summary: 'licence mint: sign a test licence file', run: async args => runLicenseCommand(args, stdio) },
  { name: 'firmware', aliases: [], summary: 'firmware pack: build a test firmware package', run: async args => await firmwareCommand(args, stdio) },
  ...CAPTURE_COMMANDS.map((name): Subcommand => ({
    name,
    aliases: [],
    summary: CAPTURE_SUMMARIES[name] ?? name,
    run: async args => await runCaptureCommand([name, ...args])
  }))
]

export function findSubcommand (name: string | undefined): Subcommand | undefined {
  return name === undefined ? undefined : SUBCOMMANDS.find(c => c.name === name || c.aliases.includes(name))
}

/** The list the main --help ends with. */
export function subcommandHelp (): string {
  const width = Math.max(...SUBCOMMANDS.map(c => c.name.length))
  return '\nCommands (each has its own --help):\n' +
    SUBCOMMANDS.map(c => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n') + '\n'
}
