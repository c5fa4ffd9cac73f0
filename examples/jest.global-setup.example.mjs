// test/kraken.global-setup.mjs: one emulator per Jest worker, so parallel test files never meet
import { startEmulator } from 'kraken-emulator'

export default async function startEmulators (globalConfig) {
  const count = Math.max(1, globalConfig.maxWorkers)
  globalThis.krakens = await Promise.all(Array.from({ length: count }, () =>
    startEmulator({ port: 0, fixture: 'default', inMemory: true, transitionMs: 0 })))
  // Workers inherit the environment; each test file takes its worker's emulator.
  process.env.KRAKEN_EMULATORS = JSON.stringify(globalThis.krakens.map(({ url, certificate }) => ({ url, certificate })))
}
