// Thumbnails (issue 17): GET /apis/v2/streams/stream-<uuid>/thumbnail answers a JPEG that a
// decoder reads back: a test pattern while running, grey "no signal" otherwise, sized by the rules.
import t from 'tap'
import jpeg from 'jpeg-js'
import type { LightMyRequestResponse } from 'fastify'
import { ManualClock } from '../src/kernel/clock.ts'
import type { Item, Store } from '../src/kernel/store.ts'
import { frameSizeOf, thumbnailSize, timecode } from '../src/runtime/thumbnail.ts'
import { call, envelopeOf, login, makeApp, USERS } from './helpers/app.ts'
import type { TapTest } from './helpers/auth.ts'
import { GATE_HEVC, PRESS_BYPASS, UAV_720P, UAV_PASSTHRU } from './helpers/control.ts'

const url = (uuid: string): string => `/apis/v2/streams/stream-${uuid}/thumbnail`

async function setup (t: TapTest) {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 9, 30, 15, 0))
  // The default fixture auto-starts UAV_720P (1280x720) and UAV_PASSTHRU (848x480); transitions take no time.
  const app = await makeApp({}, { clock })
  await app.ready()
  t.teardown(() => app.close())
  return { app, clock, cookie: await login(app, USERS.Viewer) }
}

function decoded (res: LightMyRequestResponse): { width: number, height: number, pixel: (x: number, y: number) => [number, number, number] } {
  const image = jpeg.decode(res.rawPayload, { useTArray: true, formatAsRGBA: true })
  return {
    width: image.width,
    height: image.height,
    pixel: (x, y) => {
      const i = (y * image.width + x) * 4
      return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!]
    }
  }
}

const near = (actual: readonly number[], expected: readonly number[], tolerance = 12): boolean => actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance)

t.test('a running stream: a JPEG test pattern at its transcoder\'s size, at most 640 px wide', async t => {
  const { app, cookie } = await setup(t)
  const res = await call(app, cookie, 'GET', url(UAV_720P))
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'image/jpeg')
  t.equal(res.headers['cache-control'], 'no-store')
  t.same([...res.rawPayload.subarray(0, 2)], [0xff, 0xd8], 'starts with a JPEG SOI marker')
  const image = decoded(res)
  t.same([image.width, image.height], [640, 360], '1280x720 scaled to 640 wide, 16:9 kept')
  t.ok(near(image.pixel(20, 20), [191, 191, 191]), `first bar white 75 % (${image.pixel(20, 20).join(',')})`)
  t.ok(near(image.pixel(619, 20), [0, 0, 191]), `last bar blue (${image.pixel(619, 20).join(',')})`)
  t.ok(near(image.pixel(5, 355), [16, 16, 16]), 'the caption band is black')

  const small = decoded(await call(app, cookie, 'GET', url(UAV_PASSTHRU)))
  t.same([small.width, small.height], [640, 362], '848x480 scaled to 640 wide, aspect kept (rounded)')
})

t.test('a stream that is not running: a grey "no signal" frame, sized as it would run', async t => {
  const { app, cookie, clock } = await setup(t)
  for (const uuid of [GATE_HEVC, PRESS_BYPASS]) {
    const image = decoded(await call(app, cookie, 'GET', url(uuid)))
    t.same([image.width, image.height], [640, 360], `${uuid}: 1920x1080 (HEVC) and 1280x720 (RTMP source of the Bypass stream) both at 640 wide`)
    t.ok(near(image.pixel(3, 3), [128, 128, 128]), `grey (${image.pixel(3, 3).join(',')})`)
  }
  // A stream in error shows no signal either.
  const admin = await login(app)
  const event = await app.inject({ method: 'POST', url: '/_emulator/device/events', payload: { type: 'input-lost', stream: UAV_720P } })
  t.equal(event.statusCode, 200)
  clock.advance(1000)
  t.ok(near(decoded(await call(app, admin, 'GET', url(UAV_720P))).pixel(3, 3), [128, 128, 128]), 'in error: grey')
})

t.test('size rules: the transcoder\'s size, never upscaled; 4:3 kept', async t => {
  const { app, cookie } = await setup(t)
  const admin = await login(app)
  const sized = async (width: number, height: number, name: string): Promise<[number, number]> => {
    const tc = await call(app, admin, 'POST', '/apis/v2/transcoders', { name, width, height })
    t.equal(tc.statusCode, 201, tc.body)
    const stream = await call(app, admin, 'POST', '/apis/v2/streams', { name: `thumb ${name}`, input: '7961d341-9dc8-4e57-96b0-161ce79fbe99', transcoder: tc.json().uuid, outputs: ['5b1f0c8e-7a43-4d1e-9c2b-3e8f6a0d4c71'] })
    t.equal(stream.statusCode, 201, stream.body)
    const image = decoded(await call(app, cookie, 'GET', url(stream.json().uuid as string)))
    await call(app, admin, 'DELETE', `/apis/v2/streams/stream-${stream.json().uuid as string}`)
    return [image.width, image.height]
  }
  t.same(await sized(320, 240, 'qvga'), [320, 240], 'smaller than 640: its own size')
  t.same(await sized(720, 576, 'pal'), [640, 512], '720x576 to 640x512')
  t.same(await sized(0, 0, 'source'), [640, 360], 'a transcoder keeping the source: the input\'s 1920x1080, at 640 wide')
})

t.test('frameSizeOf: transcoder, then the input\'s nominal resolution, then 640x360', async t => {
  const items: Record<string, Item> = {
    'transcoders/t1': { width: 1280, height: 720 },
    'transcoders/t0': { width: 0, height: 0 },
    'inputs/rtmp': { protocol: 'rtmp' },
    'inputs/odd': { protocol: 'carrier-pigeon' }
  }
  const store = { get: (collection: string, id: string) => items[`${collection}/${id}`] } as unknown as Store
  t.same(frameSizeOf(store, { mode: 'transcoder', transcoder: 't1', input: 'rtmp' }), { width: 1280, height: 720 })
  t.same(frameSizeOf(store, { mode: 'iorouter', transcoder: null, input: 'rtmp' }), { width: 1280, height: 720 }, 'Bypass: the input\'s')
  t.same(frameSizeOf(store, { mode: 'transcoder', transcoder: 't0', input: 'rtmp' }), { width: 1280, height: 720 }, 'source kept: the input\'s')
  t.same(frameSizeOf(store, { mode: 'iorouter', transcoder: null, input: 'odd' }), { width: 640, height: 360 }, 'neither says')
  t.same(frameSizeOf(store, { mode: 'transcoder', transcoder: 'gone', input: 'rtmp' }), { width: 640, height: 360 }, 'no transcoder')
  t.same(thumbnailSize({ width: 1920, height: 1080 }), { width: 640, height: 360 })
  t.same(thumbnailSize({ width: 128, height: 96 }), { width: 128, height: 96 })
  t.equal(timecode(Date.UTC(2026, 0, 1, 9, 30, 15, 500), 30), '09:30:15:15')
  t.equal(timecode(Date.UTC(2026, 0, 1, 23, 59, 59, 999), 25), '23:59:59:24')
})

t.test('one image per stream and second of the device clock', async t => {
  const { app, cookie, clock } = await setup(t)
  const first = (await call(app, cookie, 'GET', url(UAV_720P))).rawPayload
  clock.advance(900)
  const same = (await call(app, cookie, 'GET', url(UAV_720P))).rawPayload
  t.ok(first.equals(same), 'within the second: the same bytes, although the timecode\'s frame moved')
  clock.advance(100)
  const next = (await call(app, cookie, 'GET', url(UAV_720P))).rawPayload
  t.notOk(first.equals(next), 'the next second: a new image (the timecode runs)')
  // A stop within the second shows at the next one: never two images in one second.
  const operator = await login(app, USERS.Operator)
  t.equal((await call(app, operator, 'POST', `/apis/v2/streams/${UAV_720P}/stop`)).json().status, 'stopped')
  t.ok(next.equals((await call(app, cookie, 'GET', url(UAV_720P))).rawPayload), 'same second: still the image made in it')
  clock.advance(1000)
  const grey = (await call(app, cookie, 'GET', url(UAV_720P))).rawPayload
  t.ok(near(decoded({ rawPayload: grey } as LightMyRequestResponse).pixel(3, 3), [128, 128, 128]), 'the next second: grey')
  clock.advance(60_000)
  t.ok(grey.equals((await call(app, cookie, 'GET', url(UAV_720P))).rawPayload), 'a "no signal" frame is kept while nothing it shows changes')
})

t.test('every role that reads streams may; refusals in the envelope', async t => {
  const { app } = await setup(t)
  for (const role of ['Administrator', 'Operator', 'Viewer'] as const) {
    const res = await call(app, await login(app, USERS[role]), 'GET', url(UAV_720P))
    t.equal(res.statusCode, 200, role)
  }
  const anonymous = await call(app, undefined, 'GET', url(UAV_720P))
  t.equal(anonymous.statusCode, 401)
  t.equal(envelopeOf(anonymous).type, 'SessionAuthentication')
  const cookie = await login(app, USERS.Viewer)
  const missing = await call(app, cookie, 'GET', url('00000000-0000-4000-8000-000000000000'))
  t.equal(missing.statusCode, 404)
  t.match(envelopeOf(missing).message, /stream '00000000-0000-4000-8000-000000000000'/)
  const bare = await call(app, cookie, 'GET', `/apis/v2/streams/${UAV_720P}/thumbnail`)
  t.equal(bare.statusCode, 200, 'a bare uuid works as on every stream route')
  const junk = await call(app, cookie, 'GET', url('not-a-uuid'))
  t.equal(junk.statusCode, 404)
  t.equal(envelopeOf(junk).type, 'NotFound')
  const malformed = await call(app, cookie, 'GET', '/apis/v2/streams/stream-%zz/thumbnail')
  t.equal(malformed.statusCode, 400)
  t.equal(envelopeOf(malformed).type, 'Validation')
  const wrongMethod = await call(app, cookie, 'POST', url(UAV_720P))
  t.equal(wrongMethod.statusCode, 405)
  t.ok(envelopeOf(wrongMethod).message, 'in the envelope')
})

t.test('documented in /apidoc as a binary JPEG', async t => {
  const { app } = await setup(t)
  const doc = (await app.inject({ method: 'GET', url: '/apidoc/json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> }
  const op = doc.paths['/apis/v2/streams/stream-{streamId}/thumbnail']?.get
  t.ok(op, 'documented')
  t.same(op?.responses['200']?.content?.['image/jpeg']?.schema, { type: 'string', format: 'binary' })
  t.ok(op?.responses['401'], 'its refusals too')
})
