// Certificates (kraken-api.md section 10): an Administrator lists, creates (self-signed or a CSR),
// uploads (the signed certificate of a CSR, or a certificate with its key) and chooses the
// certificate the HTTPS port serves, which then serves it at once, without a restart. Shapes
// [ours], after the certificate wizard Haivision's appliances share, in this API's conventions.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { API_BASE } from '../kernel/define-resource.ts'
import { conflict, invalid, KrakenError, notFound } from '../kernel/errors.ts'
import { errorResponses, guardedErrors, NoContent } from '../kernel/schemas.ts'
import { ADMIN_ONLY, ALL_ROLES } from '../kernel/roles.ts'
import { assertSessionLive } from '../kernel/caller.ts'
import type { AdminServices } from './admin-services.ts'
import {
  assertKeyMatches, DEFAULT_VALIDITY_DAYS, DIGESTS, generate, parseCertificate, parsePrivateKey,
  SUBJECT_FIELDS, type CertificateFacts, type Digest, type Subject
} from './certificate-material.ts'
import { EXAMPLE_CERTIFICATE_KEY_PEM, EXAMPLE_CERTIFICATE_NAME, EXAMPLE_CERTIFICATE_PEM } from './certificate-example.ts'

/** The store singleton of the certificates and the choice: stored with the device. */
export const CERTIFICATES = 'certificates'
/** The certificate the emulator started with; listed, servable, never deleted [ours]. */
export const STARTUP_CERTIFICATE = 'default'

const PATH = `${API_BASE}/certificates`
const ITEM = `${PATH}/certificate-:name`
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/
const NAME_RULE = '1-64 characters of A-Z a-z 0-9 _ . - (not starting with . or -)'

type Kind = 'self-signed' | 'csr' | 'imported'

interface StoredCertificate {
  name: string
  type: Kind
  /** PEM; null while a CSR awaits its signed certificate. */
  certificate: string | null
  /** PEM (PKCS#8), never returned by the API. */
  key: string
  csr: string | null
  /** The CSR's subject, shown until its certificate is uploaded. */
  subject: string
  sans: string[]
  /** Epoch seconds. */
  created: number
}

interface CertificateState { served: string | null, certificates: StoredCertificate[] }

function readState (services: AdminServices): CertificateState {
  const stored = services.store.singleton(CERTIFICATES) as Partial<CertificateState> | undefined
  return { served: stored?.served ?? null, certificates: structuredClone(stored?.certificates ?? []) }
}

const base = { tags: ['Certificates'], security: [{ session: [] }] }
const Params = Type.Object({ name: Type.String({ description: `the certificate's name: ${NAME_RULE}` }) })
/** The CSR /apidoc's examples work on: the second example of POST /certificates makes it. */
const EXAMPLE_CSR = 'kraken-lab-csr'
const CsrParams = Type.Object({ name: Type.String({ description: `the name of a certificate made as a CSR: ${NAME_RULE}`, examples: [EXAMPLE_CSR] }) })
const exampleSubject = { C: 'US', ST: 'Virginia', L: 'Arlington', O: 'Example Lab', OU: 'Video', CN: 'kraken-lab.example' }
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()])

const Certificate = Type.Object({
  name: Type.String(),
  type: Type.String({ description: '`startup` (the one the emulator started with), `self-signed`, `csr` or `imported`' }),
  status: Type.String({ description: '`ready`, or `awaiting_certificate` for a CSR whose signed certificate is not uploaded yet' }),
  subject: Type.String({ description: 'e.g. "C=US, O=Acme, CN=kraken.example"' }),
  issuer: Nullable(Type.String()),
  sans: Type.Array(Type.String(), { description: 'DNS names and IP addresses' }),
  valid_from: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch seconds' }),
  valid_to: Type.Union([Type.Integer(), Type.Null()], { description: 'epoch seconds' }),
  fingerprint: Nullable(Type.String({ description: 'SHA-256 of the certificate, as openssl prints it' })),
  in_use: Type.Boolean({ description: 'the HTTPS port serves it now' })
}, { additionalProperties: false })
const CertificateWithPem = Type.Object({ ...Certificate.properties, certificate: Nullable(Type.String({ description: 'PEM' })) }, { additionalProperties: false })

const SubjectSchema = Type.Object(Object.fromEntries(SUBJECT_FIELDS.map(f => [f, Type.Optional(Type.String({ minLength: 1, maxLength: f === 'C' ? 2 : 64 }))])), {
  additionalProperties: false, description: 'C (two letters), ST, L, O, OU, CN'
})
const CreateBody = Type.Object({
  name: Type.String({ description: NAME_RULE }),
  type: Type.Union([Type.Literal('self-signed'), Type.Literal('csr')]),
  digest: Type.Optional(Type.Union(Object.keys(DIGESTS).map(d => Type.Literal(d)), { description: 'sha256 (default), sha384 or sha512' })),
  subject: SubjectSchema,
  sans: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 32, description: 'DNS names and IP addresses; the CN is added when missing' })),
  validity_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: `self-signed only; default ${DEFAULT_VALIDITY_DAYS}` }))
}, {
  additionalProperties: false,
  examples: [
    { name: 'kraken-lab', type: 'self-signed', digest: 'sha256', subject: exampleSubject, sans: ['kraken-lab.example', '192.0.2.10'], validity_days: 365 },
    { name: EXAMPLE_CSR, type: 'csr', digest: 'sha256', subject: exampleSubject, sans: ['kraken-lab.example', '192.0.2.10'] }
  ]
})
const ImportBody = Type.Object({
  name: Type.String({ description: NAME_RULE }),
  certificate: Type.String({ description: 'PEM' }),
  key: Type.String({ description: 'PEM, unencrypted; stored with the device, never returned' })
}, { additionalProperties: false, examples: [{ name: EXAMPLE_CERTIFICATE_NAME, certificate: EXAMPLE_CERTIFICATE_PEM, key: EXAMPLE_CERTIFICATE_KEY_PEM }] })
// The example shows the shape only: no certificate written here can carry the public key of a CSR
// made later on someone's device, so sent as is it is refused (400, not this CSR's key).
const UploadBody = Type.Object({ certificate: Type.String({ description: 'PEM: the certificate signed for this CSR' }) }, {
  additionalProperties: false, examples: [{ certificate: EXAMPLE_CERTIFICATE_PEM }]
})

export function registerCertificateRoutes (app: FastifyInstance, services: () => AdminServices): void {
  /** The certificate the HTTPS port serves now (the stored choice may have been refused at start). */
  let servedName = STARTUP_CERTIFICATE
  const nameOf = (request: FastifyRequest): string => (request.params as { name: string }).name
  const nowSeconds = (): number => Math.floor(services().clock.now() / 1000)

  function present (entry: StoredCertificate | 'startup'): Record<string, unknown> {
    if (entry === 'startup') {
      const pair = services().tls.startup
      if (pair === undefined) throw notFound(`certificate '${STARTUP_CERTIFICATE}'`)
      return { name: STARTUP_CERTIFICATE, type: 'startup', status: 'ready', ...parseCertificate(pair.cert, 'certificate').facts, in_use: servedName === STARTUP_CERTIFICATE, certificate: pair.cert }
    }
    const facts: CertificateFacts | undefined = entry.certificate === null ? undefined : parseCertificate(entry.certificate, 'certificate').facts
    return {
      name: entry.name,
      type: entry.type,
      status: facts === undefined ? 'awaiting_certificate' : 'ready',
      subject: facts?.subject ?? entry.subject,
      issuer: facts?.issuer ?? null,
      sans: facts?.sans ?? entry.sans,
      valid_from: facts?.valid_from ?? null,
      valid_to: facts?.valid_to ?? null,
      fingerprint: facts?.fingerprint ?? null,
      in_use: servedName === entry.name,
      certificate: entry.certificate
    }
  }
  const summary = (entry: StoredCertificate | 'startup') => {
    const { certificate: _pem, ...rest } = present(entry)
    return rest
  }
  function find (state: CertificateState, name: string): StoredCertificate | 'startup' {
    if (name === STARTUP_CERTIFICATE && services().tls.startup !== undefined) return 'startup'
    const entry = state.certificates.find(c => c.name === name)
    if (entry === undefined) throw notFound(`certificate '${name}'`)
    return entry
  }
  function assertNewName (state: CertificateState, name: unknown): string {
    if (typeof name !== 'string' || !NAME.test(name)) throw invalid('name', `must be ${NAME_RULE}`)
    if (name === STARTUP_CERTIFICATE || state.certificates.some(c => c.name === name)) {
      throw conflict(`a certificate named '${name}' exists`, [{ field: 'name', message: 'already used by a certificate' }])
    }
    return name
  }
  async function commit (request: FastifyRequest, state: CertificateState): Promise<void> {
    assertSessionLive(request)
    await services().store.commit([{ op: 'set', singleton: CERTIFICATES, value: { ...state } }])
  }
  const created = (reply: FastifyReply, name: string) => reply.code(201).header('location', `${PATH}/certificate-${encodeURIComponent(name)}`)

  /** The pair of a certificate, checked fit to serve now; a 4xx saying why not. */
  function servable (entry: StoredCertificate | 'startup'): { cert: string, key: string } {
    if (entry === 'startup') return services().tls.startup!
    if (entry.certificate === null) {
      throw conflict(`certificate '${entry.name}' is a CSR awaiting its signed certificate: upload it first`, [{ field: 'certificate', message: 'not uploaded yet' }])
    }
    const { x509, facts } = parseCertificate(entry.certificate, 'certificate')
    const now = nowSeconds()
    if (facts.valid_to <= now) throw invalid('certificate', `expired on ${new Date(facts.valid_to * 1000).toISOString()}: the web server does not serve an expired certificate`)
    if (facts.valid_from > now) throw invalid('certificate', `is not valid before ${new Date(facts.valid_from * 1000).toISOString()}`)
    assertKeyMatches(x509, parsePrivateKey(entry.key, 'key'), 'its key')
    return { cert: entry.certificate, key: entry.key }
  }

  /** Serves the stored choice (at start and after a reset); a choice that cannot be served is logged and the startup certificate kept. */
  function applyStoredChoice (atStart: boolean): void {
    const s = services()
    if (s.tls.startup === undefined) return
    const { served, certificates } = readState(s)
    if (s.tls.pinned) {
      if (atStart && served !== null && served !== STARTUP_CERTIFICATE) {
        s.log.warn({ certificate: served }, `--cert/--key given: they win over the certificate '${served}' chosen through the API`)
      }
      return
    }
    const entry = served === null ? undefined : certificates.find(c => c.name === served)
    if (served !== null && served !== STARTUP_CERTIFICATE && entry === undefined) s.log.warn({ certificate: served }, 'the chosen certificate does not exist; serving the startup certificate')
    if (entry !== undefined) {
      try {
        s.tls.serve(servable(entry))
        servedName = entry.name
        return
      } catch (error) {
        s.log.warn({ certificate: served, reason: (error as Error).message }, 'the chosen certificate cannot be served; serving the startup certificate')
      }
    }
    if (servedName !== STARTUP_CERTIFICATE) {
      s.tls.serve(s.tls.startup)
      servedName = STARTUP_CERTIFICATE
    }
  }

  app.get(PATH, {
    config: { roles: ALL_ROLES },
    schema: { ...base, operationId: 'listCertificates', summary: 'List the HTTPS certificates', response: { 200: Type.Object({ certificate_list: Type.Array(Certificate) }, { additionalProperties: false }), ...errorResponses(...guardedErrors) } }
  }, async function listCertificates () {
    const state = readState(services())
    const startup = services().tls.startup === undefined ? [] : [summary('startup')]
    return { certificate_list: [...startup, ...state.certificates.map(summary)] }
  })

  app.post(PATH, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'createCertificate', summary: 'Create a self-signed certificate or a CSR', body: CreateBody,
      description: 'A new RSA-2048 key with a self-signed certificate (`type: self-signed`) or a certificate signing request (`type: csr`; download it from .../csr, upload the signed certificate to .../certificate). The CN is added to the SANs when missing.',
      response: { 201: Certificate, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function createCertificate (request, reply) {
    const body = request.body as { name: string, type: 'self-signed' | 'csr', digest?: Digest, subject: Subject, sans?: string[], validity_days?: number }
    const name = assertNewName(readState(services()), body.name)
    if (Object.keys(body.subject).length === 0) throw invalid('subject', 'needs at least one field (CN, usually)')
    if (body.subject.C !== undefined && !/^[A-Z]{2}$/.test(body.subject.C)) throw invalid('subject.C', 'must be a two-letter country code (ISO 3166, e.g. "US")')
    if (body.type === 'csr' && body.validity_days !== undefined) throw invalid('validity_days', 'is for self-signed certificates (the signer of a CSR decides)')
    const made = await generate(body.type, body.subject, body.sans ?? [], body.digest ?? 'sha256', body.validity_days ?? DEFAULT_VALIDITY_DAYS, services().clock.now())
    // Read again: the key took a while, and another request may have taken the name meanwhile.
    const state = readState(services())
    assertNewName(state, name)
    const entry: StoredCertificate = { name, type: body.type, certificate: made.cert ?? null, key: made.key, csr: made.csr ?? null, subject: made.subject, sans: made.sans, created: nowSeconds() }
    state.certificates.push(entry)
    await commit(request, state)
    void created(reply, name)
    return summary(entry)
  })

  app.post(`${PATH}/import`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, operationId: 'importCertificate', summary: 'Upload a certificate with its key', body: ImportBody,
      description: 'A key that does not match the certificate, or either not being PEM, is 400.',
      response: { 201: Certificate, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function importCertificate (request, reply) {
    const body = request.body as { name: string, certificate: string, key: string }
    const state = readState(services())
    const name = assertNewName(state, body.name)
    const { x509 } = parseCertificate(body.certificate, 'certificate')
    assertKeyMatches(x509, parsePrivateKey(body.key, 'key'), 'the key')
    const entry: StoredCertificate = { name, type: 'imported', certificate: body.certificate, key: body.key, csr: null, subject: '', sans: [], created: nowSeconds() }
    state.certificates.push(entry)
    await commit(request, state)
    void created(reply, name)
    return summary(entry)
  })

  app.get(ITEM, {
    config: { roles: ALL_ROLES },
    schema: { ...base, params: Params, operationId: 'getCertificate', summary: 'Read a certificate (with its PEM)', response: { 200: CertificateWithPem, ...errorResponses(...guardedErrors) } }
  }, async function getCertificate (request) {
    return present(find(readState(services()), nameOf(request)))
  })

  app.get(`${ITEM}/csr`, {
    config: { roles: ALL_ROLES },
    schema: {
      ...base, params: Params, operationId: 'downloadCsr', summary: 'Download the CSR of a certificate',
      description: 'The PEM certificate signing request (`application/pkcs10`), to have it signed elsewhere. 404 for a certificate made without a CSR.',
      response: { ...errorResponses(...guardedErrors) }
    }
  }, async function downloadCsr (request, reply) {
    const entry = find(readState(services()), nameOf(request))
    if (entry === 'startup' || entry.csr === null) throw notFound(`a CSR of certificate '${nameOf(request)}'`)
    return reply.type('application/pkcs10').header('content-disposition', `attachment; filename="${entry.name}.csr"`).send(entry.csr)
  })

  app.put(`${ITEM}/certificate`, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: CsrParams, body: UploadBody, operationId: 'uploadSignedCertificate', summary: 'Upload the signed certificate of a CSR',
      description: 'The certificate must carry the CSR\'s public key (400 otherwise): the example body shows the shape, put the PEM your CA signed from .../csr in its place. Uploading again (a renewal) replaces it; the served certificate is replaced too when this one is in use.',
      response: { 200: Certificate, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function uploadSignedCertificate (request) {
    const state = readState(services())
    const entry = find(state, nameOf(request))
    if (entry === 'startup' || entry.type !== 'csr') throw conflict(`certificate '${nameOf(request)}' was not made from a CSR: import a new certificate with its key instead`)
    const pem = (request.body as { certificate: string }).certificate
    const { x509 } = parseCertificate(pem, 'certificate')
    assertKeyMatches(x509, parsePrivateKey(entry.key, 'key'), `the key of CSR '${entry.name}'`)
    const next = { ...entry, certificate: pem }
    const pair = servedName === entry.name ? servable(next) : undefined
    state.certificates = state.certificates.map(c => c.name === entry.name ? next : c)
    await commit(request, state)
    if (pair !== undefined) services().tls.serve(pair)
    return summary(next)
  })

  app.put(`${ITEM}/serve`, {
    config: { roles: ADMIN_ONLY, bodyOptional: true },
    schema: {
      ...base, params: Params, operationId: 'serveCertificate', summary: 'Serve this certificate on the HTTPS port',
      description: 'From now on new TLS connections get it; open ones continue. Stored with the device, so it is served after a restart too, unless the emulator is started with --cert/--key (409 here then). An expired certificate is 400, a CSR without its signed certificate 409.',
      response: { 200: Certificate, ...errorResponses(400, 409, 413, 415, ...guardedErrors) }
    }
  }, async function serveCertificate (request) {
    const s = services()
    const state = readState(s)
    const entry = find(state, nameOf(request))
    if (s.tls.pinned) throw conflict('the emulator was started with --cert/--key, which win over a certificate chosen here: restart it without them first')
    if (s.tls.startup === undefined) throw new KrakenError('Conflict', 'this emulator serves no HTTPS')
    const pair = servable(entry)
    const name = entry === 'startup' ? STARTUP_CERTIFICATE : entry.name
    state.served = name === STARTUP_CERTIFICATE ? null : name
    await commit(request, state)
    s.tls.serve(pair)
    servedName = name
    return summary(entry)
  })

  app.delete(ITEM, {
    config: { roles: ADMIN_ONLY },
    schema: {
      ...base, params: Params, operationId: 'deleteCertificate', summary: 'Delete a certificate',
      description: 'The certificate in use (serve another first) and the startup certificate cannot be deleted (409).',
      response: { 204: NoContent, ...errorResponses(409, ...guardedErrors) }
    }
  }, async function deleteCertificate (request, reply) {
    const state = readState(services())
    const entry = find(state, nameOf(request))
    if (entry === 'startup') throw conflict('the startup certificate cannot be deleted')
    if (servedName === entry.name || state.served === entry.name) {
      throw conflict(`certificate '${entry.name}' is in use by the web server: serve another one first`, [{ field: 'name', message: 'in use' }])
    }
    state.certificates = state.certificates.filter(c => c.name !== entry.name)
    await commit(request, state)
    return reply.code(204).send()
  })

  applyStoredChoice(true)
  services().onReset.push(() => { applyStoredChoice(false) })
}
