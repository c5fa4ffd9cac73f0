// Presets (kraken-api.md section 10): save the device's configuration under a name, list, load,
// rename, duplicate, delete, mark one for start-up, export and import. Shapes [ours], after the
// sibling Makito X4 API (`GET /apis/presets` with `autosave` and `activeWasModified`,
// `PUT /apis/presets/{name}` and its `/load`, `/rename`, `/duplicate`, `/startup`), in this
// API's conventions: `preset_list`, `preset-<name>` items, the error envelope.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { conflict, notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors, NoContent } from '../kernel/schemas.ts'
import { ADMIN_ONLY, ALL_ROLES, MEDIA_WRITERS } from '../kernel/roles.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import type { Db } from '../kernel/store.ts'
import { CURRENT_FORMAT } from '../migrations/index.ts'
import type { AdminServices } from './admin-services.ts'
import {
  assertPresetName, configurationAtCurrent, currentConfiguration, parsePresetFile, PRESET_FORMAT, PRESET_NAME_RULE, rulesRefused,
  withConfiguration, configurationCollections, FIRST_DATA_FORMAT, type PresetFile
} from './preset-file.ts'
import { PRESET_FILE_EXAMPLE } from './preset-file-example.ts'
import { activeWasModified, presetState, PRESETS, readPresetState, type PresetState, type StoredPreset } from './preset-state.ts'

const PATH = `${API_BASE}/presets`
const ITEM = `${PATH}/preset-:name`
const base = { tags: ['Presets'], security: [{ session: [] }] }
/** The preset /apidoc's examples work on: POST /presets's example saves it, the item routes' examples name it. */
const EXAMPLE_PRESET = 'class-1.cfg'
const Params = Type.Object({ name: Type.String({ description: `the preset's name: ${PRESET_NAME_RULE}`, examples: [EXAMPLE_PRESET] }) })
const nameBody = (example: string) => Type.Object({ name: Type.String({ description: PRESET_NAME_RULE }) }, { additionalProperties: false, examples: [{ name: example }] })

const Preset = Type.Object({
  name: Type.String(),
  saved: Type.Integer({ description: 'epoch seconds of the save (or of the exported file for an import)' }),
  active: Type.Boolean({ description: 'the preset loaded last' }),
  startup: Type.Boolean({ description: 'applied after a reboot' })
}, { additionalProperties: false })

const PresetList = Type.Object({
  preset_list: Type.Array(Preset),
  active: Type.Union([Type.String(), Type.Null()], { description: 'the preset loaded last, or null' }),
  active_was_modified: Type.Boolean({ description: 'the configuration differs from the active preset\'s' }),
  autosave: Type.Boolean({ description: 'the running configuration is saved as it changes and survives a reboot (always true here)' }),
  startup: Type.Union([Type.String(), Type.Null()], { description: 'the preset applied after a reboot, or null (the running configuration is kept)' })
}, { additionalProperties: false })

const PresetFileSchema = Type.Object({
  format: Type.String({ description: `${PRESET_FORMAT}; a newer format is refused` }),
  data_format: Type.String({ description: 'the data-file format of its items (kraken-emulator/<version>; absent: 1): older items migrate as a data file\'s do, newer ones are refused' }),
  name: Type.String(),
  saved: Type.Integer(),
  configuration: Type.Record(Type.String(), Type.Array(Type.Object({}, { additionalProperties: true })))
}, { additionalProperties: false, description: 'A preset file (JSON): the configuration collections as the data file holds them' })
/**
 * What an import accepts before reading it: any object with a format. The file's version decides
 * how the rest is read (parsePresetFile), so a newer file is refused for its version, not its shape.
 */
const PresetFileUpload = Type.Object({ format: Type.String({ description: `${PRESET_FORMAT}; a newer format is refused` }) }, {
  additionalProperties: true, description: 'A preset file as GET .../file returns it: format, name, saved, configuration', examples: [PRESET_FILE_EXAMPLE]
})

function present (state: PresetState, preset: StoredPreset): Record<string, unknown> {
  return { name: preset.name, saved: preset.saved, active: state.active === preset.name, startup: state.startup === preset.name }
}

export function registerPresetRoutes (app: FastifyInstance, services: () => AdminServices): void {
  const nameOf = (request: FastifyRequest): string => (request.params as { name: string }).name
  const find = (state: PresetState, name: string): StoredPreset => {
    const preset = state.presets.find(p => p.name === name)
    if (preset === undefined) throw notFound(`preset '${name}'`)
    return preset
  }
  const refuseTaken = (state: PresetState, name: string): void => {
    if (state.presets.some(p => p.name === name)) throw conflict(`a preset named '${name}' exists`, [{ field: 'name', message: 'already used by a preset' }])
  }
  const commit = async (request: FastifyRequest, state: PresetState): Promise<void> => {
    assertSessionLive(request)
    await services().store.commit([{ op: 'set', singleton: PRESETS, value: { ...state } }])
  }
  const location = (reply: FastifyReply, name: string) => reply.header('location', `${PATH}/preset-${encodeURIComponent(name)}`)
  const nowSeconds = () => Math.floor(services().clock.now() / 1000)

  /** Saves the running configuration under `name` (a new preset or over an existing one). */
  async function save (request: FastifyRequest, reply: FastifyReply, name: string, mustBeNew: boolean) {
    const { store, registry } = services()
    const state = readPresetState(store)
    if (mustBeNew) refuseTaken(state, name)
    const preset: StoredPreset = { name, saved: nowSeconds(), data_format: CURRENT_FORMAT, configuration: currentConfiguration(store, registry) }
    const index = state.presets.findIndex(p => p.name === name)
    if (index === -1) state.presets.push(preset)
    else state.presets[index] = preset
    // Saving the running configuration over the active preset (or as a new one) makes it the
    // active, unmodified preset, as on the sibling appliances [ours].
    state.active = name
    await commit(request, state)
    if (index === -1) void location(reply, name).code(201)
    return present(state, preset)
  }

  app.get(PATH, {
    config: { roles: ALL_ROLES },
    schema: { ...base, operationId: 'listPresets', summary: 'List the presets', response: { 200: PresetList, ...errorResponses(...guardedErrors) } }
  }, async function listPresets () {
    const { store, registry } = services()
    const state = readPresetState(store)
    return {
      preset_list: state.presets.map(p => present(state, p)),
      active: state.active,
      active_was_modified: activeWasModified(store, registry, state),
      autosave: true,
      startup: state.startup
    }
  })

  app.post(PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'createPreset', summary: 'Save the configuration as a new preset', body: nameBody(EXAMPLE_PRESET),
      description: 'Saves streams, inputs, outputs, transcoders, metadata sources and relays (not accounts, network, services, certificates or licence). 409 if the name is taken.',
      response: { 201: Preset, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function createPreset (request, reply) {
    return await save(request, reply, assertPresetName((request.body as { name: unknown }).name), true)
  })

  app.post(`${PATH}/import`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'importPreset', summary: 'Import a preset file', body: PresetFileUpload,
      description: `Adds the preset of a file exported by GET .../file. A file of a newer format than ${PRESET_FORMAT}, or whose configuration does not pass today's rules, is refused (400); a taken name is 409.`,
      response: { 201: Preset, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function importPreset (request, reply) {
    const { store, registry, checkDb } = services()
    const file = parsePresetFile(request.body, registry)
    const state = readPresetState(store)
    refuseTaken(state, file.name)
    // Checked now, so a class is never handed a preset that cannot load; checking fills the
    // schema defaults in, and the preset keeps them (an import then loads unmodified).
    const db = withConfiguration(store.snapshot(), file.configuration, registry)
    try {
      checkDb(db)
    } catch (error) {
      throw rulesRefused(file.name, error)
    }
    const configuration = Object.fromEntries(configurationCollections(registry).map(c => [c, db.collections[c] ?? []]))
    const preset: StoredPreset = { name: file.name, saved: file.saved, data_format: CURRENT_FORMAT, configuration }
    state.presets.push(preset)
    await commit(request, state)
    void location(reply, file.name).code(201)
    return present(state, preset)
  })

  app.get(ITEM, {
    config: { roles: ALL_ROLES },
    schema: { ...base, params: Params, operationId: 'getPreset', summary: 'Read a preset', response: { 200: Preset, ...errorResponses(...guardedErrors) } }
  }, async function getPreset (request) {
    const state = readPresetState(services().store)
    return present(state, find(state, nameOf(request)))
  })

  app.put(ITEM, {
    config: { roles: ADMIN_ONLY, bodyOptional: true },
    schema: {
      ...base, params: Params, operationId: 'savePreset', summary: 'Save the configuration under this name',
      description: 'Creates the preset (201) or saves over it (200); either way it becomes the active preset. A body, if any, is ignored.',
      response: { 200: Preset, 201: Preset, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function savePreset (request, reply) {
    return await save(request, reply, assertPresetName(nameOf(request), 'name'), false)
  })

  app.delete(ITEM, {
    config: { roles: ADMIN_ONLY },
    schema: { ...base, params: Params, operationId: 'deletePreset', summary: 'Delete a preset', response: { 204: NoContent, ...errorResponses(...guardedErrors) } }
  }, async function deletePreset (request, reply) {
    const state = readPresetState(services().store)
    const name = find(state, nameOf(request)).name
    state.presets = state.presets.filter(p => p.name !== name)
    if (state.active === name) state.active = null
    if (state.startup === name) state.startup = null
    await commit(request, state)
    return reply.code(204).send()
  })

  app.get(`${ITEM}/file`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: Params, operationId: 'exportPreset', summary: 'Export a preset file',
      description: 'The preset as a file to import elsewhere. Administrators only: it holds the SRT passphrases the API never shows.',
      response: { 200: PresetFileSchema, ...errorResponses(...guardedErrors) }
    }
  }, async function exportPreset (request, reply) {
    const preset = find(readPresetState(services().store), nameOf(request))
    const file: PresetFile = { format: PRESET_FORMAT, data_format: preset.data_format ?? FIRST_DATA_FORMAT, name: preset.name, saved: preset.saved, configuration: preset.configuration }
    void reply.header('content-disposition', `attachment; filename="${preset.name}.json"`)
    return file
  })

  app.put(`${ITEM}/load`, {
    config: { roles: MEDIA_WRITERS, bodyOptional: true },
    schema: {
      ...base, params: Params, operationId: 'loadPreset', summary: 'Load a preset',
      description: 'Stops every stream, replaces the configuration with the preset\'s at once, then starts the streams with `auto_start`. ' +
        'A preset that does not pass today\'s rules changes nothing (400 saying why). Sessions continue.',
      response: { 200: Preset, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function loadPreset (request) {
    const name = nameOf(request)
    assertSessionLive(request)
    const { state, durable } = applyPreset(services(), name, true)
    await durable
    return present(state, find(state, name))
  })

  app.put(`${ITEM}/rename`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: Params, body: nameBody('class-1-final.cfg'), operationId: 'renamePreset', summary: 'Rename a preset',
      response: { 200: Preset, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function renamePreset (request, reply) {
    const state = readPresetState(services().store)
    const preset = find(state, nameOf(request))
    const next = assertPresetName((request.body as { name: unknown }).name)
    if (next === preset.name) return present(state, preset)
    refuseTaken(state, next)
    const old = preset.name
    preset.name = next
    if (state.active === old) state.active = next
    if (state.startup === old) state.startup = next
    await commit(request, state)
    void location(reply, next)
    return present(state, preset)
  })

  app.put(`${ITEM}/duplicate`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: Params, body: nameBody('class-2.cfg'), operationId: 'duplicatePreset', summary: 'Copy a preset under a new name',
      response: { 201: Preset, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function duplicatePreset (request, reply) {
    const state = readPresetState(services().store)
    const preset = find(state, nameOf(request))
    const next = assertPresetName((request.body as { name: unknown }).name)
    refuseTaken(state, next)
    const copy: StoredPreset = { ...structuredClone(preset), name: next }
    state.presets.push(copy)
    await commit(request, state)
    void location(reply, next).code(201)
    return present(state, copy)
  })

  app.put(`${ITEM}/startup`, {
    config: { roles: ADMIN_ONLY, bodyOptional: true },
    schema: {
      ...base, params: Params, operationId: 'setStartupPreset', summary: 'Apply this preset after a reboot',
      description: 'One preset at most is the start-up preset; this replaces the previous choice. A body, if any, is ignored.',
      response: { 200: Preset, ...errorResponses(400, 413, 415, ...guardedErrors) }
    }
  }, async function setStartupPreset (request) {
    const state = readPresetState(services().store)
    const preset = find(state, nameOf(request))
    state.startup = preset.name
    await commit(request, state)
    return present(state, preset)
  })

  app.delete(`${ITEM}/startup`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: Params, operationId: 'clearStartupPreset', summary: 'Stop applying this preset after a reboot',
      description: 'After a reboot the running configuration is kept. A no-op when this preset is not the start-up preset.',
      response: { 200: Preset, ...errorResponses(...guardedErrors) }
    }
  }, async function clearStartupPreset (request) {
    const state = readPresetState(services().store)
    const preset = find(state, nameOf(request))
    if (state.startup === preset.name) {
      state.startup = null
      await commit(request, state)
    }
    return present(state, preset)
  })

  // A reboot applies the start-up preset before auto-start [docs: "after a reboot re-applies it"].
  services().onBoot.push(() => {
    const { store, log } = services()
    const { startup } = readPresetState(store)
    if (startup === null) return
    try {
      applyPreset(services(), startup, false).durable.catch((error: unknown) => {
        log.error({ err: error }, 'applying the start-up preset was not made durable')
      })
    } catch (error) {
      log.warn({ preset: startup, reason: (error as Error).message }, 'the start-up preset was not applied; the running configuration is kept')
    }
  })
}

/**
 * Loads a preset: checks it against today's rules first (a refusal changes nothing), then stops
 * every stream, replaces the configuration in one store operation, and (when `autoStart`) starts
 * the auto_start streams. Memory changes synchronously (a boot hook can call it); `durable`
 * resolves once the new configuration is on disk.
 */
export function applyPreset (services: AdminServices, name: string, autoStart: boolean): { state: PresetState, durable: Promise<void> } {
  const { store, registry, checkDb, runtime } = services
  const snapshot = store.snapshot()
  const state = presetState(snapshot)
  const preset = state.presets.find(p => p.name === name)
  if (preset === undefined) throw notFound(`preset '${name}'`)
  const db: Db = withConfiguration(snapshot, configurationAtCurrent(preset.configuration, preset.data_format), registry)
  try {
    checkDb(db)
  } catch (error) {
    throw rulesRefused(name, error)
  }
  const next: PresetState = { ...state, active: name }
  db.singletons[PRESETS] = { ...next }
  runtime.stopAll()
  const durable = store.replace(db)
  if (autoStart) runtime.autoStart()
  return { state: structuredClone(next), durable }
}
