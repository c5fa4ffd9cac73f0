import type { FastifyInstance } from 'fastify'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { version } from '../config.ts'

/**
 * /apidoc: Swagger UI over the OpenAPI document that @fastify/swagger derives from the very route
 * schemas that validate requests. Every asset is served from the package (devices and CI have no
 * internet). No session needed (kraken-api.md section 8).
 */
export async function registerApidoc (app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Kraken REST API v2 (kraken-emulator)',
        version: version(),
        description: 'The Haivision Kraken REST API v2 as reproduced by kraken-emulator. Log in with ' +
          '`POST /apis/v2/login` (Try it out): the browser then holds the HttpOnly `id` cookie and sends it with every call.'
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'id', description: 'The session cookie set by POST /apis/v2/login' },
          controlToken: { type: 'apiKey', in: 'header', name: 'X-Kraken-Control-Token', description: 'The emulator\'s control token (--control-token), needed by /_emulator routes when one is set: always off loopback' }
        }
      },
      tags: [
        { name: 'Session', description: 'Login, logout and the current session' },
        { name: 'Emulator', description: 'The emulator\'s own control routes (not on a real device)' }
      ]
    },
    refResolver: {
      // Keep the schema $id as the component name (ErrorEnvelope), not def-0.
      buildLocalReference: (json, _baseUri, _fragment, i) => typeof json.$id === 'string' ? json.$id : `def-${i}`
    }
  })
  // The documentation is open (kraken-api.md section 8). Its routes are made by swagger-ui, so
  // they are declared open by this scope as they register; the swagger plugin above stays at the
  // root, where it sees every route of the app.
  await app.register(async function openDocumentation (scope) {
    scope.addHook('onRoute', function declareOpen (route) {
      route.config = { ...route.config, access: 'open' }
    })
    await scope.register(fastifySwaggerUi, {
      routePrefix: '/apidoc',
      uiConfig: { docExpansion: 'list', deepLinking: true, withCredentials: true, persistAuthorization: false, tryItOutEnabled: false },
      staticCSP: true
    })
    scope.get('/docs', { schema: { hide: true } }, async function docsRedirect (_request, reply) {
      return reply.redirect('/apidoc', 301)
    })
  })
}
