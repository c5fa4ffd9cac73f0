import type { FastifyInstance } from 'fastify'
import type { Services } from '../services.ts'
import { registerClockRoutes } from './clock-routes.ts'
import { DeviceConditions } from './device-conditions.ts'
import { deviceLocal } from '../kernel/device-local.ts'
import { installUnreachable, registerDeviceEvents } from './device-events.ts'
import { registerSnapshotRoutes } from './snapshot-routes.ts'
import { registerScenarioRoutes } from './scenario-routes.ts'
import { installInjectedCut } from './scenario-host.ts'

/**
 * The control plane's second part: the device clock, device events, snapshots and scenarios under
 * /_emulator. Installed before the route guard, so an unreachable device closes the connection
 * before any other answer.
 */
export function installControl (app: FastifyInstance, services: () => Services): void {
  // One per device (a fleet app serves many): see kernel/device-local.ts.
  const conditionsOf = deviceLocal((_s: Services) => new DeviceConditions())
  const conditions = () => conditionsOf(services())
  services().hold = uuid => conditions().hold(services().store, uuid)
  services().onReset.push(() => conditions().clear())
  installInjectedCut(app)
  installUnreachable(app, services, conditions)
  registerClockRoutes(app, services)
  registerDeviceEvents(app, services, conditions)
  registerSnapshotRoutes(app, services, conditions)
  registerScenarioRoutes(app, services)
  // A reset starts afresh: no scenario goes on making calls against the restored fixture.
  services().onReset.push(() => { services().scenarios.stop('the emulator was reset') })
}
