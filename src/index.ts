// The package entry (`import { startEmulator } from 'kraken-emulator'`): what an integrator needs
// to run the emulator inside a test suite, and nothing that would tie them to its internals.
// docs/test-fixture.md documents it; test/fixture-api.test.ts and the packaging test hold it to that.

/** Start a real emulator on HTTPS (port 0 by default) and get its URL, certificate, reset and close. */
export { startEmulator, type EmulatorClock, type EmulatorOptions, type RunningEmulator } from './start-emulator.ts'

/** Build the emulator as a Fastify app that never listens, for `app.inject()` tests (plain HTTP). */
export { buildApp, type AppDeps, type KrakenApp } from './app.ts'

/** Every option of the CLI, with its defaults; `loadConfig` parses argv and KRAKEN_* variables. */
export { DEFAULT_PASSWORD, defaults as defaultConfig, loadConfig, version, type Config, type LogLevel, type SessionIdFormat } from './config.ts'

/** Time: `clock: 'manual'` and `emulator.clock.advance('15m')`, or a ManualClock of your own, instead of sleeping. */
export { DeviceClock, ManualClock, systemClock, type Clock, type ClockMode } from './kernel/clock.ts'

/** The fixtures shipped in the package, by name (`default`, `empty`, ...). */
export { fixtureNames } from './fixtures.ts'

/** What a start can fail with (each message is one line naming the file or option at fault). */
export { CertificateError } from './tls/certificate.ts'
export { StoreLoadError } from './kernel/store.ts'
export { FixtureError } from './fixtures.ts'

/** The emulator's services (store, sessions, runtime, reset) as `app.kraken` exposes them. */
export type { Services } from './services.ts'

// The request log and faults (GET /_emulator/requests, POST /_emulator/faults): `kraken.requests()`,
// `kraken.expectRequest()` and the error it throws.
export { RequestExpectationError, type ExpectOptions } from './control/request-log-expect.ts'
export type { RequestFilter, RequestLogEntry } from './control/request-log.ts'
export type { Fault, FaultAction, FaultSpec } from './control/faults.ts'

/** Many emulated Krakens from one process (README "A fleet"): each device's URL, reset, control token and clock. */
export { startFleet, type FleetDeviceHandle, type FleetOptions, type RunningFleet } from './start-fleet.ts'
export { FleetError } from './fleet/fleet-plan.ts'
